// Shadow verification in AWS: the API's sampled hits on a standard SQS queue, the verifier function behind it, and its dead-letter queue.
import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CacheFunction, type CacheScope } from './cache-function.js';

export interface ShadowVerificationProps extends CacheScope {
  /** The API function, which sends the samples. */
  readonly api: CacheFunction;
  /** Share of hits verified (SHADOW_SAMPLE_RATE on the API; default 0.01). */
  readonly sampleRate: number;
  /** Confirmed mismatches of a type before it is served from the site (SHADOW_MISMATCH_THRESHOLD). */
  readonly mismatchThreshold: number;
}

/** A verdict re-checks a difference for up to SHADOW_SETTLE_MS (30 s) before calling it a mismatch; ten per batch. */
export const VERIFIER_TIMEOUT = Duration.minutes(5);
export const VERIFIER_MAX_RECEIVE_COUNT = 3;

export class ShadowVerification extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly verifier: CacheFunction;

  constructor(scope: Construct, id: string, props: ShadowVerificationProps) {
    super(scope, id);
    const { defaults, tables, siteSecret } = props;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // Samples need no order: a standard queue. A sample older than a day is no longer worth replaying.
    this.queue = new sqs.Queue(this, 'Samples', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(VERIFIER_TIMEOUT.toSeconds() * 6),
      retentionPeriod: Duration.days(1),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: VERIFIER_MAX_RECEIVE_COUNT },
    });

    this.verifier = new CacheFunction(this, 'Verifier', {
      defaults,
      name: 'verifier',
      entry: 'functions/verifier/handler.ts',
      description: 'fpt-cache verifier: replays sampled cache hits against the site and quarantines types that answered wrong',
      memorySize: 512,
      timeout: VERIFIER_TIMEOUT,
      environment: {
        ...tables.environment,
        ...siteSecret.scriptEnvironment(props.scriptName),
        SHADOW_MISMATCH_THRESHOLD: String(props.mismatchThreshold),
      },
    });
    // A stale verdict repairs the entities it found newer on the site (re-read and written as the reconciler does).
    tables.entities.grantReadWrite(this.verifier.role);
    tables.refs.grantReadWrite(this.verifier.role);
    // The ledger (counts, quarantine), the reconcile pace and readiness live in the state table.
    tables.state.grantReadWrite(this.verifier.role);
    siteSecret.grantRead(this.verifier.role);
    // Two batches at a time (the event source minimum): each verdict is one to a few site calls with the cache's
    // script, on top of the artists' own load on the site.
    this.verifier.fn.addEventSource(new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: 2 }));

    this.queue.grantSendMessages(props.api.role);
    props.api.fn.addEnvironment('SHADOW_QUEUE_URL', this.queue.queueUrl);
    props.api.fn.addEnvironment('SHADOW_SAMPLE_RATE', String(props.sampleRate));
  }
}
