// Lambda entry of the reconciler (EventBridge schedule): updated_at scans for writes the event log missed, plus the id sweep.
import type { Context } from 'aws-lambda';
import { createReconcilerHandler, type ReconcileHandler } from './app.js';

let ready: Promise<ReconcileHandler> | undefined;

export async function handler(event: unknown, context: Context) {
  ready ??= createReconcilerHandler(process.env).catch((e) => { ready = undefined; throw e; });
  return (await ready)(event, context);
}
