// The alarms: sync lag, poller heartbeat, DLQ, queue age, cursor beyond retention, site outage, schema drift, function errors and throttles, API 5xx and latency, drift; one composite pages.
import { Duration, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { customMetric } from '../metrics.js';
import type { CacheFunction } from './cache-function.js';

export interface AlarmThresholds {
  readonly syncLagSeconds: number;
  readonly apiLatencyP99Ms: number;
  readonly api5xxRatePercent: number;
  readonly functionErrors: number;
  readonly queueAgeSeconds: number;
}

export interface AlarmsProps {
  readonly serviceName: string;
  readonly thresholds: AlarmThresholds;
  readonly alarmEmail?: string;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly poller: CacheFunction;
  readonly consumer: CacheFunction;
  /** The other sync functions (importer, reconciler, validator). */
  readonly background: CacheFunction[];
  readonly api: CacheFunction;
  readonly httpApi: apigwv2.IHttpApi;
  /** How often the validator runs (Drift is evaluated over this period). */
  readonly validateInterval: Duration;
  /** Shadow verification, when deployed: mismatches alarm at once. */
  readonly shadow?: boolean;
}

const FIVE_MINUTES = Duration.minutes(5);

/** FILL(m, 0) summed over several metrics, so one quiet function does not blank the sum. */
function sumOf(label: string, metrics: cloudwatch.IMetric[], period: Duration): cloudwatch.MathExpression {
  const usingMetrics = Object.fromEntries(metrics.map((m, i) => [`m${i}`, m]));
  return new cloudwatch.MathExpression({
    label,
    expression: Object.keys(usingMetrics)
      .map((k) => `FILL(${k}, 0)`)
      .join(' + '),
    usingMetrics,
    period,
  });
}

export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly syncLag: cloudwatch.Alarm;
  readonly pollerHeartbeat: cloudwatch.Alarm;
  readonly deadLetters: cloudwatch.Alarm;
  readonly queueAge: cloudwatch.Alarm;
  readonly consumerErrors: cloudwatch.Alarm;
  readonly syncErrors: cloudwatch.Alarm;
  readonly apiErrors: cloudwatch.Alarm;
  readonly api5xxRate: cloudwatch.Alarm;
  readonly apiLatency: cloudwatch.Alarm;
  readonly throttles: cloudwatch.Alarm;
  readonly drift: cloudwatch.Alarm;
  readonly cursorBeyondRetention: cloudwatch.Alarm;
  readonly siteOutage: cloudwatch.Alarm;
  readonly schemaDrift: cloudwatch.Alarm;
  readonly shadowMismatch?: cloudwatch.Alarm;
  readonly any: cloudwatch.CompositeAlarm;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const t = props.thresholds;
    const svc = props.serviceName;
    const prefix = Stack.of(this).stackName;
    const name = (suffix: string) => `${prefix}-${suffix}`;

    this.topic = new sns.Topic(this, 'Topic', { displayName: `${prefix} alarms`, enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    // EMF metrics are extracted from logs asynchronously: M of N datapoints (aws-anchors.md §5).
    this.syncLag = new cloudwatch.Alarm(this, 'SyncLag', {
      alarmName: name('sync-lag'),
      alarmDescription: `Events reach the cache more than ${t.syncLagSeconds} s after they happened on the site (3 of 5 minutes).`,
      metric: customMetric(svc, 'SyncLagSeconds', 'Maximum'),
      threshold: t.syncLagSeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // The poller emits a heartbeat on every poll: silence means it is dead, so missing data breaches.
    this.pollerHeartbeat = new cloudwatch.Alarm(this, 'PollerHeartbeat', {
      alarmName: name('poller-heartbeat'),
      alarmDescription: "The poller has not polled the site's event log in 3 of the last 5 minutes.",
      metric: customMetric(svc, 'PollerHeartbeat', 'Sum'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    // An empty DLQ may publish no datapoints: missing is fine.
    this.deadLetters = new cloudwatch.Alarm(this, 'DeadLetters', {
      alarmName: name('dead-letters'),
      alarmDescription: 'Events are in the dead-letter queue: they were not applied to the cache. Inspect, fix, then redrive.',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1) }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.queueAge = new cloudwatch.Alarm(this, 'QueueAge', {
      alarmName: name('queue-age'),
      alarmDescription: `The oldest queued event has waited more than ${t.queueAgeSeconds} s (3 of 5 minutes): the consumer is stuck or too slow.`,
      metric: props.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: Duration.minutes(1) }),
      threshold: t.queueAgeSeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const errorsAlarm = (id: string, suffix: string, what: string, metric: cloudwatch.IMetric) =>
      new cloudwatch.Alarm(this, id, {
        alarmName: name(suffix),
        alarmDescription: `${what} failed ${t.functionErrors} or more times in 5 minutes.`,
        metric,
        threshold: t.functionErrors,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    this.consumerErrors = errorsAlarm(
      'ConsumerErrors',
      'consumer-errors',
      'The consumer function',
      props.consumer.fn.metricErrors({ statistic: 'Sum', period: FIVE_MINUTES }),
    );
    this.syncErrors = errorsAlarm(
      'SyncErrors',
      'sync-errors',
      'The poller, importer, reconciler or validator',
      sumOf(
        'Errors',
        [props.poller, ...props.background].map((f) => f.fn.metricErrors({ statistic: 'Sum', period: FIVE_MINUTES })),
        FIVE_MINUTES,
      ),
    );
    this.apiErrors = errorsAlarm('ApiErrors', 'api-errors', 'The API function', props.api.fn.metricErrors({ statistic: 'Sum', period: FIVE_MINUTES }));

    // HTTP API metrics (AWS/ApiGateway, dimension ApiId). The rate needs a few requests to mean anything.
    this.api5xxRate = new cloudwatch.Alarm(this, 'Api5xxRate', {
      alarmName: name('api-5xx-rate'),
      alarmDescription: `More than ${t.api5xxRatePercent}% of API requests failed with 5xx (2 of 3 five-minute periods, at least 10 requests).`,
      metric: new cloudwatch.MathExpression({
        label: '5xx %',
        expression: 'IF(requests >= 10, 100 * errors / requests, 0)',
        usingMetrics: {
          errors: props.httpApi.metricServerError({ statistic: 'Sum', period: FIVE_MINUTES }),
          requests: props.httpApi.metricCount({ statistic: 'Sum', period: FIVE_MINUTES }),
        },
        period: FIVE_MINUTES,
      }),
      threshold: t.api5xxRatePercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.apiLatency = new cloudwatch.Alarm(this, 'ApiLatencyP99', {
      alarmName: name('api-latency-p99'),
      alarmDescription: `API p99 latency above ${t.apiLatencyP99Ms} ms (2 of 3 five-minute periods).`,
      metric: props.httpApi.metricLatency({ statistic: 'p99', period: FIVE_MINUTES }),
      threshold: t.apiLatencyP99Ms,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // The poller is left out: with reserved concurrency 1, a throttled overlapping tick is by design.
    this.throttles = new cloudwatch.Alarm(this, 'Throttles', {
      alarmName: name('throttles'),
      alarmDescription: 'Lambda throttled the API, consumer, importer, reconciler or validator (2 of 3 five-minute periods).',
      metric: sumOf(
        'Throttles',
        [props.api, props.consumer, ...props.background].map((f) => f.fn.metricThrottles({ statistic: 'Sum', period: FIVE_MINUTES })),
        FIVE_MINUTES,
      ),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.drift = new cloudwatch.Alarm(this, 'Drift', {
      alarmName: name('drift'),
      alarmDescription: 'The validator found cached entities that differ from the site: the cache served or would serve stale data.',
      metric: customMetric(svc, 'Drift', 'Maximum', props.validateInterval),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // The poller found its cursor older than the site's event retention: events were lost, a rebuild runs (shared/sync/rebuild.ts).
    this.cursorBeyondRetention = new cloudwatch.Alarm(this, 'CursorBeyondRetention', {
      alarmName: name('cursor-beyond-retention'),
      alarmDescription:
        "The poller's cursor was older than the site's event-log retention: events were missed and a rebuild was requested (updated_at scans and id diffs where proven complete, else full re-imports; reads pass through until each type is rebuilt).",
      metric: customMetric(svc, 'CursorBeyondRetention', 'Sum', FIVE_MINUTES),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // The site is down (or only its event log fails): polls fail; reads are served marked stale within OUTAGE_GRACE_S
    // (OutageHits) or pass (docs/operations.md). Two failing minutes in a row alarm; recovery clears it.
    this.siteOutage = new cloudwatch.Alarm(this, 'SiteOutage', {
      alarmName: name('site-outage'),
      alarmDescription:
        "The poller cannot read the site's event log (the site is down, or its event log fails): the cache serves what it verified marked stale, for at most OUTAGE_GRACE_S, and passes the rest (docs/operations.md).",
      metric: customMetric(svc, 'PollFailures', 'Sum', Duration.minutes(1)),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // A gauge emitted after each schema diff (DisplayColumn events, the reconciler's periodic diff, every reconciler
    // run while drift is recorded): missing data keeps the state, so the alarm stays up until a diff reports 0.
    this.schemaDrift = new cloudwatch.Alarm(this, 'SchemaDrift', {
      alarmName: name('schema-drift'),
      alarmDescription:
        'Cached fields changed on the site (type, link targets, removed): they pass through and are not updated. Run `fpt-cache schema dump` and deploy (docs/sync.md, Schema changes).',
      metric: customMetric(svc, 'SchemaDrift', 'Maximum', Duration.minutes(15)),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });
    // The verifier caught the cache answering differently from the site: the type already passes through
    // (reason shadow-mismatch); the log line names the request and both answers (docs/shadow.md).
    if (props.shadow) {
      this.shadowMismatch = new cloudwatch.Alarm(this, 'ShadowMismatch', {
        alarmName: name('shadow-mismatch'),
        alarmDescription:
          'A sampled cache hit differed from the site after the sync caught up: the cache served a wrong answer. Its type is served from the site until a re-check after a reconcile pass, `fpt-cache validate` or a re-import finds it clean (docs/shadow.md).',
        metric: customMetric(svc, 'ShadowMismatch', 'Sum', FIVE_MINUTES),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    // One page for any of them; the individual alarms carry no actions.
    this.any = new cloudwatch.CompositeAlarm(this, 'Any', {
      compositeAlarmName: name('any'),
      alarmDescription: 'fpt-cache needs attention: one of its alarms is firing (see the dashboard).',
      alarmRule: cloudwatch.AlarmRule.anyOf(...this.all.map((a) => cloudwatch.AlarmRule.fromAlarm(a, cloudwatch.AlarmState.ALARM))),
    });
    this.any.addAlarmAction(new cw_actions.SnsAction(this.topic));
    this.any.addOkAction(new cw_actions.SnsAction(this.topic));
  }

  get all(): cloudwatch.Alarm[] {
    return [
      this.syncLag,
      this.pollerHeartbeat,
      this.deadLetters,
      this.queueAge,
      this.consumerErrors,
      this.syncErrors,
      this.apiErrors,
      this.api5xxRate,
      this.apiLatency,
      this.throttles,
      this.drift,
      this.cursorBeyondRetention,
      this.siteOutage,
      this.schemaDrift,
      ...(this.shadowMismatch ? [this.shadowMismatch] : []),
    ];
  }
}
