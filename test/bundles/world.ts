// The local AWS account a synthesized template runs in: its tables and queues created from the template, one container per function with the template's environment and role, and the events its triggers send.
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { EventBridgeEvent } from 'aws-lambda';
import { startSqsEventSource, type SqsEventSource, type SqsEventSourceStats } from '../../local/sqs-event-source.js';
import type { Assembly } from './assembly.js';
import { startAwsEndpoint, type AwsEndpoint, type Identity } from './aws-endpoint.js';
import { LambdaContainer, type InvokeResult } from './lambda-container.js';
import {
  ACCOUNT,
  REGION,
  localResources,
  queueDefinitions,
  queueTriggers,
  resolveValue,
  roleStatements,
  scheduleTriggers,
  tableDefinitions,
  templateFunctions,
  type Json,
  type LocalResource,
  type QueueTrigger,
  type TemplateFunction,
} from './template.js';

export interface WorldOptions {
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  /** Literal values of the template that stand for something outside AWS (the site URL) -> their local counterparts. */
  literals: Record<string, string>;
  /** Secret values by the secret's logical id (what the operator puts with put-secret-value). */
  secretValues: (id: string) => string;
  /** Environment overrides per function short name: each one is a deliberate, listed deviation from the template. */
  overrides?: Record<string, Record<string, string>>;
}

export interface World {
  endpoint: AwsEndpoint;
  resources: Map<string, LocalResource>;
  functions: Record<string, TemplateFunction>;
  containers: Record<string, LambdaContainer>;
  /** Every invocation's outcome, per function. */
  results: Record<string, InvokeResult[]>;
  environment(name: string): Record<string, string>;
  /** Invokes a function, failing on an error (the value otherwise). */
  invoke<R = unknown>(name: string, event: unknown): Promise<R>;
  /** The event EventBridge sends for the function's schedule rule. */
  scheduledEvent(name: string): EventBridgeEvent<'Scheduled Event', Record<string, never>>;
  /** The template's SQS trigger of a function. */
  queueTrigger(name: string): QueueTrigger;
  /** Runs the function's event source mapping (as the template configures it) until the queue is drained. */
  drain(name: string, opts?: { minRecords?: number; timeoutMs?: number }): Promise<SqsEventSourceStats>;
  stop(): Promise<void>;
}

function tableInput(name: string, p: Json): CreateTableCommandInput {
  return {
    TableName: name,
    KeySchema: p.KeySchema,
    AttributeDefinitions: p.AttributeDefinitions,
    BillingMode: 'PAY_PER_REQUEST',
    ...(p.GlobalSecondaryIndexes?.length
      ? {
          GlobalSecondaryIndexes: (p.GlobalSecondaryIndexes as Json[]).map((g) => ({
            IndexName: g.IndexName,
            KeySchema: g.KeySchema,
            Projection: g.Projection,
          })),
        }
      : {}),
  };
}

export async function startWorld(assembly: Assembly, o: WorldOptions): Promise<World> {
  const { template } = assembly;
  const identities = new Map<string, Identity>();
  const secrets = new Map<string, string>();
  const functionArns = new Map<string, string>();
  const endpoint = await startAwsEndpoint({ dynamodb: o.dynamodbEndpoint, sqs: o.sqsEndpoint, identities, secrets, functions: functionArns });
  const prefix = `b${randomUUID().slice(0, 8)}-`;
  const resources = localResources(template, prefix, { sqs: endpoint.url });
  const fns = templateFunctions(template, assembly.dir, resources);
  const nameOf = Object.fromEntries(Object.entries(assembly.functionIds).map(([n, id]) => [id, n]));
  const functions = Object.fromEntries(fns.map((f) => [nameOf[f.id] ?? f.id, f]));

  // The template's own tables (keys, indexes) and queues (FIFO or standard), under local names.
  const ddb = new DynamoDBClient({ endpoint: o.dynamodbEndpoint, region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const sqs = new SQSClient({ endpoint: o.sqsEndpoint, region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    await Promise.all(tableDefinitions(template).map((t) => ddb.send(new CreateTableCommand(tableInput(resources.get(t.id)!.ref, t.properties)))));
    for (const q of queueDefinitions(template)) {
      const p = q.properties;
      await sqs.send(
        new CreateQueueCommand({
          QueueName: resources.get(q.id)!.attrs!.QueueName,
          Attributes: {
            ...(p.FifoQueue ? { FifoQueue: 'true', ContentBasedDeduplication: String(p.ContentBasedDeduplication ?? false) } : {}),
            VisibilityTimeout: String(p.VisibilityTimeout ?? 30),
          },
        }),
      );
    }
  } finally {
    ddb.destroy();
    sqs.destroy();
  }
  for (const [id, r] of Object.entries(template.Resources as Record<string, Json>)) {
    if (r.Type === 'AWS::SecretsManager::Secret') secrets.set(resources.get(id)!.arn, o.secretValues(id));
  }

  const environment = (name: string): Record<string, string> => {
    const f = functions[name];
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(f.environment)) {
      const value = String(resolveValue(v, resources));
      env[k] = o.literals[value] ?? value;
    }
    return { ...env, AWS_ENDPOINT_URL: endpoint.url, ...o.overrides?.[name] };
  };
  const containers: Record<string, LambdaContainer> = {};
  const results: Record<string, InvokeResult[]> = {};
  const started = await Promise.allSettled(
    Object.entries(functions).map(async ([name, f]) => {
      const accessKeyId = `ASIA${f.id.toUpperCase().replace(/[^A-Z0-9]/g, '')}`;
      identities.set(accessKeyId, { fn: f.name, statements: roleStatements(template, f.roleId, resources) });
      functionArns.set(f.name, f.arn).set(f.arn, f.arn);
      containers[name] = await LambdaContainer.start({
        name: f.name,
        arn: f.arn,
        assetDir: f.assetDir,
        handler: f.handler,
        runtime: f.runtime,
        memoryMb: f.memoryMb,
        timeoutS: f.timeoutS,
        environment: environment(name),
        credentials: { accessKeyId, secretAccessKey: 'local-secret', sessionToken: `session-${f.id}` },
      });
      results[name] = [];
    }),
  );

  const sources: SqsEventSource[] = [];
  const world: World = {
    endpoint,
    resources,
    functions,
    containers,
    results,
    environment,
    async invoke<R>(name: string, event: unknown): Promise<R> {
      const r = await containers[name].invoke<R>(event);
      results[name].push(r);
      if (!r.ok) throw new Error(`${name} failed: ${r.error?.errorType}: ${r.error?.errorMessage}\n${(r.error?.stack ?? []).join('\n')}`);
      return r.value as R;
    },
    scheduledEvent(name) {
      const rule = scheduleTriggers(template).find((t) => t.functionId === functions[name].id);
      if (!rule) throw new Error(`${name} has no schedule in the template`);
      return {
        version: '0',
        id: randomUUID(),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: ACCOUNT,
        time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        region: REGION,
        resources: [resources.get(rule.ruleId)!.arn],
        detail: {},
      };
    },
    queueTrigger(name) {
      const t = queueTriggers(template).find((q) => q.functionId === functions[name].id);
      if (!t) throw new Error(`${name} has no SQS trigger in the template`);
      return t;
    },
    async drain(name, opts = {}) {
      const t = world.queueTrigger(name);
      const f = functions[name];
      const queue = template.Resources[t.queueId].Properties as Json;
      const dlqArn = String(resolveValue(queue.RedrivePolicy?.deadLetterTargetArn, resources));
      const dlq = [...resources.values()].find((r) => r.arn === dlqArn)!;
      const c = containers[name];
      const source = startSqsEventSource({
        endpoint: endpoint.url,
        queueUrl: resources.get(t.queueId)!.ref,
        dlqUrl: dlq.ref,
        fn: { name: f.name, timeoutMs: f.timeoutS * 1000, memoryMb: f.memoryMb },
        // The mapping's own receives and deletes run with the function's role, as in AWS.
        credentials: { accessKeyId: [...identities.entries()].find(([, i]) => i.fn === f.name)![0], secretAccessKey: 'local-secret' },
        // One container per function, so one batch at a time (the template's MaximumConcurrency is checked by test/infra).
        batchSize: t.batchSize,
        maxConcurrency: 1,
        maxReceiveCount: queue.RedrivePolicy?.maxReceiveCount,
        handler: async (event) => {
          const r = await c.invoke(event);
          results[name].push(r);
          if (!r.ok) throw new Error(`${name}: ${r.error?.errorType}: ${r.error?.errorMessage}`);
          return r.value as never;
        },
      });
      sources.push(source);
      const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
      try {
        for (;;) {
          const s = source.stats();
          if (s.recordsDelivered >= (opts.minRecords ?? 1) && s.buffered === 0 && s.inFlightBatches === 0) return s;
          if (Date.now() > deadline) throw new Error(`${name}: queue not drained in time (${JSON.stringify(s)})`);
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        await source.stop();
      }
    },
    async stop() {
      await Promise.allSettled(sources.map((s) => s.stop()));
      await Promise.allSettled(Object.values(containers).map((c) => c.stop()));
      await endpoint.close();
    },
  };
  const failed = started.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed.length) {
    await world.stop();
    throw new Error(failed.map((f) => String((f.reason as Error).message)).join('\n'));
  }
  return world;
}
