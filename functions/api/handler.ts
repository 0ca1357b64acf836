// Lambda entry of the API (API Gateway HTTP API, payload v2): configuration from the environment, once per container.
import { Logger } from '@aws-lambda-powertools/logger';
import { shotgunConfigFromEnv } from '../../shared/config.js';
import { createApiHandler } from './app.js';

const logger = new Logger({ serviceName: 'fpt-cache-api' });

export const handler = createApiHandler({ shotgun: shotgunConfigFromEnv(process.env), logger });
