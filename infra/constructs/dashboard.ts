// The CloudWatch dashboard: sync lag, throughput, poller/import/reconcile counts, schema drift, cache hit ratio, pass reasons, API latency and traffic, errors, alarm status.
import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CUSTOM_METRICS, METRICS_NAMESPACE, PASS_REASON_DIMENSION, SERVICE_DIMENSION, customMetric } from '../metrics.js';
import type { CacheFunction } from './cache-function.js';

export interface DashboardProps {
  readonly serviceName: string;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly httpApi: apigwv2.IHttpApi;
  readonly functions: CacheFunction[];
  readonly alarms: cloudwatch.IAlarm[];
  readonly validateInterval: Duration;
  /** Shadow verification is deployed: graph its verdicts. */
  readonly shadow?: boolean;
}

const MINUTE = Duration.minutes(1);
const FIVE_MINUTES = Duration.minutes(5);

export class CacheDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const svc = props.serviceName;
    const m = (name: Parameters<typeof customMetric>[1], statistic: string, period = MINUTE, label?: string) =>
      customMetric(svc, name, statistic, period).with({ label: label ?? name });

    const hit = m('CacheHit', 'Sum', FIVE_MINUTES);
    const pass = m('CachePass', 'Sum', FIVE_MINUTES);
    const hitRatio = new cloudwatch.MathExpression({
      label: 'hit ratio %',
      expression: 'IF(hit + pass > 0, 100 * hit / (hit + pass), 0)',
      usingMetrics: { hit, pass },
      period: FIVE_MINUTES,
    });
    // Pass-throughs per reason: whatever reasons the API emits, without listing them here.
    const passReasons = new cloudwatch.MathExpression({
      label: '',
      expression: `SEARCH('{${METRICS_NAMESPACE},${SERVICE_DIMENSION},${PASS_REASON_DIMENSION}} MetricName="${CUSTOM_METRICS.CachePass}" ${SERVICE_DIMENSION}="${svc}"', 'Sum', 300)`,
      period: FIVE_MINUTES,
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      // Dashboards are global to the account: the region keeps same-named stacks in two regions apart.
      dashboardName: `${Stack.of(this).stackName}-${Aws.REGION}`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: props.alarms, width: 24, height: 3 }));
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Sync lag (s)',
        left: [
          m('SyncLagSeconds', 'Maximum', MINUTE, 'event -> cache (max)'),
          props.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: MINUTE, label: 'oldest queued event' }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Throughput (events/min)',
        left: [
          m('EventsApplied', 'Sum', MINUTE, 'events applied'),
          props.queue.metricNumberOfMessagesSent({ statistic: 'Sum', period: MINUTE, label: 'events queued' }),
        ],
        right: [m('PollerHeartbeat', 'Sum', MINUTE, 'polls')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Event-log backlog and dead letters',
        left: [m('Backlog', 'Maximum', MINUTE, 'site events not yet polled')],
        right: [
          m('DeadLetters', 'Sum', MINUTE, 'given up'),
          props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: MINUTE, label: 'in DLQ' }),
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Poller: events forwarded, dropped, expired',
        left: [m('EventsForwarded', 'Sum', MINUTE, 'forwarded to the consumer'), m('EventsDropped', 'Sum', MINUTE, 'not needed by the cache')],
        right: [
          m('EventsExpired', 'Sum', MINUTE, 'awaited ids expired'),
          m('CursorBeyondRetention', 'Sum', MINUTE, 'cursor beyond retention'),
          m('PollFailures', 'Sum', MINUTE, 'failed polls (site down)'),
        ],
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Import',
        left: [m('ImportedEntities', 'Sum', MINUTE, 'entities imported'), m('RebuiltEntities', 'Sum', MINUTE, 'entities rebuilt (trimmed log)')],
        right: [m('ImportRemaining', 'Maximum', MINUTE, 'entities remaining')],
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Reconciliation',
        left: [m('ReconciledEntities', 'Sum', FIVE_MINUTES, 're-read and written')],
        right: [m('VanishedEntities', 'Sum', FIVE_MINUTES, 'gone from the site')],
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Schema drift (fields)',
        left: [m('SchemaDrift', 'Maximum', FIVE_MINUTES, 'cached fields changed on the site')],
        leftYAxis: { min: 0 },
        width: 6,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Cache hit ratio (%)', left: [hitRatio], leftYAxis: { min: 0, max: 100 }, width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Reads: hits and pass-throughs', left: [hit, pass], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Pass-through reasons', left: [passReasons], stacked: true, width: 8 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Permission views (callers' own views, probed)",
        left: [m('PermissionProbes', 'Sum', FIVE_MINUTES, 'probes'), m('PermissionViewsVerified', 'Sum', FIVE_MINUTES, 'views verified')],
        right: [m('PermissionRevocations', 'Sum', FIVE_MINUTES, 'views revoked (evidence)')],
        width: 24,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API latency (ms)',
        left: [
          props.httpApi.metricLatency({ statistic: 'p50', period: MINUTE, label: 'p50' }),
          props.httpApi.metricLatency({ statistic: 'p99', period: MINUTE, label: 'p99' }),
          props.httpApi.metricIntegrationLatency({ statistic: 'p99', period: MINUTE, label: 'integration p99' }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'API requests',
        left: [props.httpApi.metricCount({ statistic: 'Sum', period: MINUTE, label: 'requests' })],
        right: [
          props.httpApi.metricClientError({ statistic: 'Sum', period: MINUTE, label: '4xx' }),
          props.httpApi.metricServerError({ statistic: 'Sum', period: MINUTE, label: '5xx' }),
        ],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        left: props.functions.map((f) => f.fn.metricErrors({ statistic: 'Sum', period: FIVE_MINUTES, label: f.name })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function throttles',
        left: props.functions.map((f) => f.fn.metricThrottles({ statistic: 'Sum', period: FIVE_MINUTES, label: f.name })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Drift (validator)',
        left: [m('Drift', 'Maximum', props.validateInterval, 'entities differing from the site')],
        width: 8,
      }),
    );
    if (props.shadow) {
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Shadow checks of cache hits (verifier)',
          left: [
            m('ShadowMatched', 'Sum', FIVE_MINUTES, 'matched'),
            m('ShadowConverged', 'Sum', FIVE_MINUTES, 'converged (changed in between)'),
            m('ShadowUnsettled', 'Sum', FIVE_MINUTES, 'unsettled (busy site)'),
            m('ShadowStale', 'Sum', FIVE_MINUTES, 'stale (sync lag, repaired)'),
            m('ShadowRepaired', 'Sum', FIVE_MINUTES, 'entities repaired'),
          ],
          right: [
            m('ShadowMismatch', 'Sum', FIVE_MINUTES, 'mismatched'),
            m('ShadowQuarantined', 'Sum', FIVE_MINUTES, 'types quarantined'),
            m('ShadowLifted', 'Sum', FIVE_MINUTES, 'quarantines lifted'),
          ],
          width: 24,
        }),
      );
    }
  }
}
