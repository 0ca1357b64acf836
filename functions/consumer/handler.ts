// Lambda entry of the consumer (SQS FIFO event source, ReportBatchItemFailures): built once per container from the environment.
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createConsumerHandler, type ConsumerHandler } from './app.js';

let ready: Promise<ConsumerHandler> | undefined;

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  ready ??= createConsumerHandler(process.env).catch((e) => { ready = undefined; throw e; });
  return (await ready)(event, context);
}
