// Lambda entry of the validator (EventBridge schedule): samples cached entities against the site and reports Drift.
import type { Context } from 'aws-lambda';
import { createValidatorHandler, type ValidateHandler } from './app.js';

let ready: Promise<ValidateHandler> | undefined;

export async function handler(event: unknown, context: Context) {
  ready ??= createValidatorHandler(process.env).catch((e) => { ready = undefined; throw e; });
  return (await ready)(event, context);
}
