// Lambda entry of the poller (EventBridge, every minute): built once per container from the environment, then loops until shortly before its timeout.
import { lambdaEntry } from '../lambda-entry.js';
import { createPollerHandler } from './app.js';

export const handler = lambdaEntry(createPollerHandler);
