// Invoking a Lambda handler in-process the way the Lambda runtime does: a fresh Context per call with a deadline.
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export type LambdaHandler<E, R> = (event: E, context: Context) => Promise<R> | R;

export interface LocalFunction {
  /** Function name, as the CDK app names it (used in logs and the Context). */
  name: string;
  /** Lambda timeout; the Context's getRemainingTimeInMillis counts down from it. */
  timeoutMs?: number;
  memoryMb?: number;
}

/** A Context like the runtime's. Once `shutdown` aborts (the local stack stopping), the remaining time reads 0. */
export function lambdaContext(fn: LocalFunction, shutdown?: AbortSignal, region = process.env.AWS_REGION ?? 'us-east-1'): Context {
  const deadline = Date.now() + (fn.timeoutMs ?? 30_000);
  const fail = () => {
    throw new Error('callback-style completion is not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:123456789012:function:${fn.name}`,
    memoryLimitInMB: String(fn.memoryMb ?? 512),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${fn.name}`,
    logStreamName: `local/${fn.name}`,
    getRemainingTimeInMillis: () => (shutdown?.aborted ? 0 : Math.max(0, deadline - Date.now())),
    done: fail,
    fail,
    succeed: fail,
  };
}

/** Runs one invocation; a handler that outlives its timeout is reported as a timeout error (as Lambda does). */
export async function invokeLocal<E, R>(fn: LocalFunction, handler: LambdaHandler<E, R>, event: E, shutdown?: AbortSignal): Promise<R> {
  const timeoutMs = fn.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${fn.name} timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => handler(event, lambdaContext(fn, shutdown))), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
