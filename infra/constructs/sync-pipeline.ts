// The sync pipeline: poller -> SQS FIFO -> consumer, the import runner, and the reconcile and validate schedules.
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CacheFunction, type CacheScope } from './cache-function.js';

export interface SyncPipelineProps extends CacheScope {
  readonly pollIntervalMs: number;
  /** Consumer concurrency cap (event source MaximumConcurrency). */
  readonly maxConcurrency: number;
  readonly reconcileInterval: Duration;
  /** The reconciler's schedule rate: each pass scans the types whose adaptive interval (reconcileInterval down to this floor) is due. */
  readonly reconcileFloor?: Duration;
  /** A full schema diff at most this often (the reconciler's SCHEMA_DIFF_INTERVAL_MS). */
  readonly schemaDiffInterval: Duration;
  readonly validateInterval: Duration;
  readonly pollerMemoryMb: number;
  readonly consumerMemoryMb: number;
  /** The reconciler renews signed URLs of recently read entities before they come within this margin (SIGNED_URL_MARGIN_S). */
  readonly signedUrlMarginS?: number;
  /** A poller heartbeat older than this is a dead owner's: its lease is taken over (POLLER_STALE_MS; the function's default when unset). */
  readonly pollerStaleMs?: number;
  /** The consumer's entity writes grouped into transactions (STORE_WRITE_GROUPING; shared/store/grouped-writes.ts). */
  readonly storeWriteGrouping?: 'off' | 'transact';
}

/** Lambda requires the queue's visibility timeout to be at least the function timeout; AWS recommends 6x. */
export const CONSUMER_TIMEOUT = Duration.seconds(30);
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/** Receives before a message moves to the DLQ. */
export const MAX_RECEIVE_COUNT = 5;
/** The poller loops inside a one-minute tick; a run overshooting the next tick gets that tick throttled, then dropped. */
export const POLLER_TIMEOUT = Duration.seconds(70);
export const POLLER_LOOP_MS = 55_000;

export class SyncPipeline extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly poller: CacheFunction;
  readonly consumer: CacheFunction;
  readonly importer: CacheFunction;
  readonly reconciler: CacheFunction;
  readonly validator: CacheFunction;

  constructor(scope: Construct, id: string, props: SyncPipelineProps) {
    super(scope, id);
    const { defaults, tables, siteSecret } = props;
    const store = tables.environment;
    const script = siteSecret.scriptEnvironment(props.scriptName);

    // Events, grouped per entity by the poller, deduplicated by the poller's ids ("evt-<id>"), not by content.
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Events', {
      fifo: true,
      contentBasedDeduplication: false,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(CONSUMER_TIMEOUT.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    // Import runner: a full (re)import of the cached types, checkpointed in the state table; started by the operator
    // or by the poller. Async retries are off: the poller re-invokes it while the import is incomplete.
    this.importer = new CacheFunction(this, 'Importer', {
      defaults,
      name: 'importer',
      entry: 'functions/importer/handler.ts',
      description: 'fpt-cache import runner: loads the cached types from the site into the entities table',
      memorySize: 1024,
      timeout: Duration.minutes(15),
      environment: { ...store, ...script },
      asyncInvoke: { maxEventAge: Duration.minutes(15), retryAttempts: 0 },
    });
    tables.entities.grantReadWrite(this.importer.role);
    tables.refs.grantReadWrite(this.importer.role);
    tables.state.grantReadWrite(this.importer.role);
    siteSecret.grantRead(this.importer.role);

    // Poller: one run per minute, single-flight (reserved concurrency 1 plus the lease in the state table). A tick that
    // finds the previous run still going is throttled, and with max event age 60 s and no retries it is dropped
    // instead of queueing for up to 6 hours (aws-anchors.md §1).
    this.poller = new CacheFunction(this, 'Poller', {
      defaults,
      name: 'poller',
      entry: 'functions/poller/handler.ts',
      description: 'fpt-cache poller: EventLogEntry -> SQS FIFO, looping inside each one-minute tick',
      memorySize: props.pollerMemoryMb,
      timeout: POLLER_TIMEOUT,
      reservedConcurrentExecutions: 1,
      asyncInvoke: { maxEventAge: Duration.seconds(60), retryAttempts: 0 },
      environment: {
        STATE_TABLE: tables.state.tableName,
        EVENTS_QUEUE_URL: this.queue.queueUrl,
        POLL_INTERVAL_MS: String(props.pollIntervalMs),
        POLL_LOOP_MS: String(POLLER_LOOP_MS),
        IMPORTER_FUNCTION_NAME: this.importer.fn.functionName,
        ...(props.pollerStaleMs ? { POLLER_STALE_MS: String(props.pollerStaleMs) } : {}),
        ...script,
      },
    });
    tables.state.grantReadWrite(this.poller.role);
    this.queue.grantSendMessages(this.poller.role);
    siteSecret.grantRead(this.poller.role);
    // Exactly the importer's unqualified ARN (Function.grantInvoke would add `<arn>:*`).
    iam.Grant.addToPrincipal({ grantee: this.poller.role, actions: ['lambda:InvokeFunction'], resourceArns: [this.importer.fn.functionArn] });
    new events.Rule(this, 'PollSchedule', {
      description: 'fpt-cache: start the poller every minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.poller.fn, { retryAttempts: 0, maxEventAge: Duration.seconds(60) })],
    });

    // Consumer: applies events in per-entity order; stops at the first failure of a batch and reports the rest.
    this.consumer = new CacheFunction(this, 'Consumer', {
      defaults,
      name: 'consumer',
      entry: 'functions/consumer/handler.ts',
      description: 'fpt-cache consumer: applies FIFO event batches to the entities table',
      memorySize: props.consumerMemoryMb,
      timeout: CONSUMER_TIMEOUT,
      environment: { ...store, ...script, ...(props.storeWriteGrouping === 'transact' ? { STORE_WRITE_GROUPING: 'transact' } : {}) },
    });
    tables.entities.grantReadWrite(this.consumer.role);
    tables.refs.grantReadWrite(this.consumer.role);
    tables.state.grantReadWrite(this.consumer.role);
    siteSecret.grantRead(this.consumer.role);
    // The event source grants the consumer ReceiveMessage/DeleteMessage/ChangeMessageVisibility/GetQueueAttributes/GetQueueUrl on this queue.
    this.consumer.fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency,
      }),
    );

    // Reconciler: updated_at scans for changes the event log misses (scripts with "Generate Events" off), run at the
    // floor's rate; a type is scanned when its adaptive interval is due, and quarantines are re-checked after passes.
    const reconcileFloor = props.reconcileFloor ?? props.reconcileInterval;
    this.reconciler = new CacheFunction(this, 'Reconciler', {
      defaults,
      name: 'reconciler',
      entry: 'functions/reconciler/handler.ts',
      description: 'fpt-cache reconciler: updated_at scans for changes missing from the event log',
      memorySize: 512,
      timeout: runTimeout(props.reconcileInterval),
      environment: {
        ...store,
        ...script,
        SCHEMA_DIFF_INTERVAL_MS: String(props.schemaDiffInterval.toMilliseconds()),
        RECONCILE_INTERVAL_MS: String(props.reconcileInterval.toMilliseconds()),
        RECONCILE_FLOOR_MS: String(reconcileFloor.toMilliseconds()),
        ...(props.signedUrlMarginS ? { SIGNED_URL_MARGIN_S: String(props.signedUrlMarginS) } : {}),
      },
      asyncInvoke: { maxEventAge: Duration.seconds(60), retryAttempts: 0 },
    });
    tables.entities.grantReadWrite(this.reconciler.role);
    tables.refs.grantReadWrite(this.reconciler.role);
    tables.state.grantReadWrite(this.reconciler.role);
    siteSecret.grantRead(this.reconciler.role);
    new events.Rule(this, 'ReconcileSchedule', {
      description: 'fpt-cache: run the reconciler',
      schedule: events.Schedule.rate(reconcileFloor),
      targets: [new targets.LambdaFunction(this.reconciler.fn, { retryAttempts: 0, maxEventAge: Duration.seconds(60) })],
    });

    // Validator: samples cached entities against the site and reports Drift; reads the cache, records findings in state.
    this.validator = new CacheFunction(this, 'Validator', {
      defaults,
      name: 'validator',
      entry: 'functions/validator/handler.ts',
      description: 'fpt-cache validator: compares cached entities with the site and reports drift',
      memorySize: 512,
      timeout: runTimeout(props.validateInterval),
      environment: { ...store, ...script },
      asyncInvoke: { maxEventAge: Duration.seconds(60), retryAttempts: 0 },
    });
    tables.entities.grantRead(this.validator.role);
    tables.refs.grantRead(this.validator.role);
    tables.state.grantReadWrite(this.validator.role);
    siteSecret.grantRead(this.validator.role);
    new events.Rule(this, 'ValidateSchedule', {
      description: 'fpt-cache: run the validator',
      schedule: events.Schedule.rate(props.validateInterval),
      targets: [new targets.LambdaFunction(this.validator.fn, { retryAttempts: 0, maxEventAge: Duration.seconds(60) })],
    });
  }

  /** Every function of the pipeline (for alarms on errors and throttles). */
  get functions(): CacheFunction[] {
    return [this.poller, this.consumer, this.importer, this.reconciler, this.validator];
  }
}

/** A scheduled run ends before the next one starts: the interval less 30 s, at most Lambda's 15 minutes. */
function runTimeout(interval: Duration): Duration {
  return Duration.seconds(Math.max(30, Math.min(900, interval.toSeconds() - 30)));
}
