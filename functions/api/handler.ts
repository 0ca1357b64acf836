// Lambda entry of the API (API Gateway HTTP API, payload v2): configuration from the environment, once per container.
import { Logger } from '@aws-lambda-powertools/logger';
import { EmfApiMetrics } from '../../shared/reads/index.js';
import { apiDepsFromEnv, createApiHandler } from './app.js';

// Service name (the `service` metric dimension the alarms use) from POWERTOOLS_SERVICE_NAME, set by the CDK app.
const logger = new Logger();

export const handler = createApiHandler(apiDepsFromEnv(process.env, logger, new EmfApiMetrics()));
