// Lambda entry of the poller (EventBridge, every minute): built once per container from the environment, then loops until shortly before its timeout.
import type { Context } from 'aws-lambda';
import { createPollerHandler, type PollerHandler } from './app.js';

let ready: Promise<PollerHandler> | undefined;

export async function handler(event: unknown, context: Context) {
  ready ??= createPollerHandler(process.env).catch((e) => { ready = undefined; throw e; });
  return (await ready)(event, context);
}
