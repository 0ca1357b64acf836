// Lambda entry of the reconciler (EventBridge schedule): updated_at scans for writes the event log missed, plus the id sweep.
import { lambdaEntry } from '../lambda-entry.js';
import { createReconcilerHandler } from './app.js';

export const handler = lambdaEntry(createReconcilerHandler);
