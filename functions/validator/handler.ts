// Lambda entry of the validator (EventBridge schedule): samples cached entities against the site and reports Drift.
import { lambdaEntry } from '../lambda-entry.js';
import { createValidatorHandler } from './app.js';

export const handler = lambdaEntry(createValidatorHandler);
