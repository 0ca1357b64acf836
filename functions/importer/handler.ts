// Lambda entry of the importer (invoked asynchronously by the poller while import work is pending): one checkpointed chunk per invocation.
import { lambdaEntry } from '../lambda-entry.js';
import { createImporterHandler } from './app.js';

export const handler = lambdaEntry(createImporterHandler);
