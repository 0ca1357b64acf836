// The local SQS: local-aws-sqs in-process with the event queue and its DLQ (both FIFO) and the shadow queue and its DLQ (standard), as the CDK app declares them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequestHandler } from 'local-aws-sqs';

export const EVENTS_QUEUE_NAME = 'fpt-cache-events.fifo';
export const EVENTS_DLQ_NAME = 'fpt-cache-events-dlq.fifo';
/** The verifier's queue (standard: samples need no order) and its dead-letter queue. */
export const SHADOW_QUEUE_NAME = 'fpt-cache-shadow';
export const SHADOW_DLQ_NAME = 'fpt-cache-shadow-dlq';

export interface LocalSqs {
  endpoint: string;
  port: number;
  queueUrl: string;
  dlqUrl: string;
  shadowQueueUrl: string;
  shadowDlqUrl: string;
  close(): Promise<void>;
}

/**
 * Starts the queue server. No RedrivePolicy is set on the queue: local-aws-sqs counts ChangeMessageVisibility as
 * a receive, so the event-source emulator (local/sqs-event-source.ts) counts receives and moves messages to the
 * DLQ itself. Messages live in memory only: a restart starts with empty queues.
 */
export async function startLocalSqs(opts: { port: number; host?: string }): Promise<LocalSqs> {
  const host = opts.host ?? '127.0.0.1';
  const fifo = { FifoQueue: 'true', ContentBasedDeduplication: 'true', VisibilityTimeout: '300' } as const;
  const { service, requestHandler } = createRequestHandler({
    port: opts.port,
    hostname: host,
    emulateQueueCreationLifecycle: false,
    queues: [
      { QueueName: EVENTS_DLQ_NAME, Attributes: { ...fifo, MessageRetentionPeriod: '1209600' } },
      { QueueName: EVENTS_QUEUE_NAME, Attributes: { ...fifo } },
      { QueueName: SHADOW_DLQ_NAME, Attributes: { VisibilityTimeout: '120', MessageRetentionPeriod: '1209600' } },
      { QueueName: SHADOW_QUEUE_NAME, Attributes: { VisibilityTimeout: '120' } },
    ],
  });
  // local-aws-sqs answers SQS errors itself; only a request it cannot even parse rejects: a 500 for that one request
  // (was an unhandled rejection, which stopped the whole local stack).
  const server: Server = createServer((req, res) => {
    requestHandler(req, res).catch((e: unknown) => {
      if (res.headersSent) res.destroy();
      else res.writeHead(500, { 'content-type': 'text/plain' }).end(e instanceof Error ? e.message : String(e));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  service.PORT = port;
  const endpoint = `http://${host}:${port}`;
  return {
    endpoint,
    port,
    queueUrl: `${endpoint}/123456789012/${EVENTS_QUEUE_NAME}`,
    dlqUrl: `${endpoint}/123456789012/${EVENTS_DLQ_NAME}`,
    shadowQueueUrl: `${endpoint}/123456789012/${SHADOW_QUEUE_NAME}`,
    shadowDlqUrl: `${endpoint}/123456789012/${SHADOW_DLQ_NAME}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
