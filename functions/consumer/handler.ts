// Lambda entry of the consumer (SQS FIFO event source, ReportBatchItemFailures): built once per container from the environment.
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { lambdaEntry } from '../lambda-entry.js';
import { createConsumerHandler } from './app.js';

export const handler = lambdaEntry<SQSEvent, SQSBatchResponse>(createConsumerHandler);
