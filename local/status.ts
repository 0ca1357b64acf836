// GET /status of the local stack: whether it is ready, and each component's health.
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ShotgunClient } from '../shared/site/index.js';

export interface ComponentHealth {
  ok: boolean;
  error?: string;
  [detail: string]: unknown;
}

export interface StackStatus {
  ready: boolean;
  upstream: string;
  components: Record<string, ComponentHealth>;
}

export interface StatusParts {
  upstream: string;
  /** Whether startup finished (later also: every cached type imported and the poller following the log). */
  started: () => boolean;
  dynamodb: { endpoint: string };
  sqs: { endpoint: string; queueUrl: string; dlqUrl: string };
  site: { url: string };
  api: { url: string } | (() => { url: string } | undefined);
  /** Extra components (event source, scheduler, ...): name -> health. */
  extra?: () => Record<string, ComponentHealth>;
  /** The cache's readiness, as the API function's own GET /status reports it in AWS (component `cache`). */
  cache?: () => Promise<Record<string, unknown>>;
  /** The sync pipeline (component `sync`): per-type import state, cursor, backlog, lag; its `ready` gates the stack's. */
  sync?: () => Promise<Record<string, unknown> & { ready?: boolean }>;
}

const PROBE_TIMEOUT_MS = 2_000;
const local = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 };

async function probe(fn: () => Promise<Record<string, unknown>>): Promise<ComponentHealth> {
  try {
    return { ok: true, ...(await fn()) };
  } catch (e) {
    return { ok: false, error: (e as Error).message || (e as Error).name };
  }
}

/** Builds the status probe; its clients live as long as the stack (call close() on stop). */
export function statusProbe(parts: StatusParts): { status(): Promise<StackStatus>; close(): void } {
  const ddb = new DynamoDBClient({ ...local, endpoint: parts.dynamodb.endpoint });
  const sqs = new SQSClient({ ...local, endpoint: parts.sqs.endpoint });
  const site = new ShotgunClient({ url: parts.site.url, timeoutMs: PROBE_TIMEOUT_MS, retry: { maxAttempts: 1 } });
  const signal = () => AbortSignal.timeout(PROBE_TIMEOUT_MS);
  const queueDepth = async (url: string) => {
    const a = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }), { abortSignal: signal() }))
      .Attributes;
    return Number(a?.ApproximateNumberOfMessages ?? 0);
  };
  return {
    async status() {
      const [dynamodb, queue, upstream, cache, sync] = await Promise.all([
        probe(async () => ({
          endpoint: parts.dynamodb.endpoint,
          tables: (await ddb.send(new ListTablesCommand({}), { abortSignal: signal() })).TableNames?.length ?? 0,
        })),
        probe(async () => ({ endpoint: parts.sqs.endpoint, messages: await queueDepth(parts.sqs.queueUrl), dlqMessages: await queueDepth(parts.sqs.dlqUrl) })),
        // A fresh `info` each time (not the client's cached one): this is a liveness probe.
        probe(async () => {
          const info = await site.call<{ version?: unknown }>('info', undefined, { auth: false });
          return { url: parts.site.url, version: info?.version };
        }),
        parts.cache ? probe(parts.cache) : undefined,
        parts.sync ? probe(parts.sync) : undefined,
      ]);
      const api = typeof parts.api === 'function' ? parts.api() : parts.api;
      const components: Record<string, ComponentHealth> = {
        dynamodb,
        sqs: queue,
        site: upstream,
        api: api ? { ok: true, url: api.url } : { ok: false, error: 'not listening yet' },
        ...(cache ? { cache } : {}),
        ...(sync ? { sync } : {}),
        ...parts.extra?.(),
      };
      const ready = parts.started() && Object.values(components).every((c) => c.ok) && sync?.ready !== false;
      return { ready, upstream: parts.upstream, components };
    },
    close() {
      ddb.destroy();
      sqs.destroy();
    },
  };
}
