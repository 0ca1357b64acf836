// Lambda entry of the verifier (SQS standard queue event source, ReportBatchItemFailures): built once per container from the environment.
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { lambdaEntry } from '../lambda-entry.js';
import { createVerifierHandler } from './app.js';

export const handler = lambdaEntry<SQSEvent, SQSBatchResponse>(createVerifierHandler);
