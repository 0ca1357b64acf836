// Lambda entry of the verifier (SQS standard queue event source, ReportBatchItemFailures): built once per container from the environment.
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createVerifierHandler, type VerifierHandler } from './app.js';

let ready: Promise<VerifierHandler> | undefined;

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  ready ??= createVerifierHandler(process.env).catch((e) => { ready = undefined; throw e; });
  return (await ready)(event, context);
}
