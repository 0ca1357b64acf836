// How a sync or shadow function's Lambda entry builds its handler: once per container from the environment, with one logger named by the template.
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';

type Env = Record<string, string | undefined>;
type Handler<E, R> = (event: E, context: Context) => Promise<R>;

/**
 * The exported `handler` of a function: builds the function's handler on the first invocation (again after a failed
 * build) and logs through one Logger whose `service` is the template's POWERTOOLS_SERVICE_NAME, with each line naming
 * the function and request (Lambda context), as the API's lines do.
 */
export function lambdaEntry<E, R>(create: (env: Env, o: { logger: Logger }) => Promise<Handler<E, R>>): Handler<E, R> {
  const logger = new Logger();
  let ready: Promise<Handler<E, R>> | undefined;
  return async (event, context) => {
    logger.addContext(context);
    ready ??= create(process.env, { logger }).catch((e: unknown) => {
      ready = undefined;
      throw e;
    });
    return (await ready)(event, context);
  };
}
