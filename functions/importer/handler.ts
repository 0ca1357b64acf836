// Lambda entry of the importer (invoked asynchronously by the poller while import work is pending): one checkpointed chunk per invocation.
import type { Context } from 'aws-lambda';
import { createImporterHandler, type ImportHandler } from './app.js';

let ready: Promise<ImportHandler> | undefined;

export async function handler(event: unknown, context: Context) {
  ready ??= createImporterHandler(process.env).catch((e) => { ready = undefined; throw e; });
  return (await ready)(event, context);
}
