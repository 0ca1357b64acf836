// placeholder until the sync pipeline lands
import type { Context } from 'aws-lambda';

export async function handler(_event: unknown, context: Context): Promise<void> {
  console.log(JSON.stringify({ level: 'WARN', message: 'reconciler placeholder invoked', requestId: context.awsRequestId }));
}
