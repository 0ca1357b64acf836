import { describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { CUSTOM_METRICS } from '../../infra/metrics.js';
import type { ApiMetricName } from '../../shared/reads/index.js';
import { SHADOW_METRICS } from '../../shared/shadow/index.js';
import { SYNC_METRICS } from '../../shared/sync/index.js';
import { logicalId, resource, synth, type Json } from './synth.js';
import { freshnessFromEnv, outageFromEnv } from '../../functions/api/env.js';

const { stack, template } = synth({ syncLagThresholdSeconds: '90' });
const noEmail = synth({ alarmEmail: '' }, 'FptCacheNoEmail');
const resources = template.toJSON().Resources as Record<string, Json>;
const name = (suffix: string) => `${stack.stackName}-${suffix}`;
const alarm = (suffix: string): Json => {
  const found = Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.AlarmName === name(suffix));
  if (!found) throw new Error(`no alarm ${name(suffix)}`);
  return found.Properties;
};
const SERVICE = [{ Name: 'service', Value: stack.stackName }];
const ALARMS = [
  'sync-lag',
  'poller-heartbeat',
  'dead-letters',
  'queue-age',
  'consumer-errors',
  'sync-errors',
  'api-errors',
  'api-5xx-rate',
  'api-latency-p99',
  'throttles',
  'drift',
  'cursor-beyond-retention',
  'site-outage',
  'schema-drift',
  'shadow-mismatch',
];

describe('alarms', () => {
  it('exist, one per condition, none of them paging on its own', () => {
    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    expect(alarms.map((a) => a.Properties.AlarmName).sort()).toEqual(ALARMS.map(name).sort());
    for (const a of alarms) expect(a.Properties.AlarmActions).toBeUndefined();
  });

  it('sync lag: max SyncLagSeconds above the threshold in 3 of 5 minutes', () => {
    expect(alarm('sync-lag')).toMatchObject({
      Namespace: 'FptCache',
      MetricName: CUSTOM_METRICS.SyncLagSeconds,
      Dimensions: SERVICE,
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 90,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
      TreatMissingData: 'notBreaching',
    });
  });

  it('poller heartbeat: missing data breaches, so a dead poller alarms', () => {
    expect(alarm('poller-heartbeat')).toMatchObject({
      Namespace: 'FptCache',
      MetricName: CUSTOM_METRICS.PollerHeartbeat,
      Dimensions: SERVICE,
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it('DLQ: any visible message alarms; an empty DLQ publishing nothing does not', () => {
    expect(alarm('dead-letters')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.pipeline.deadLetterQueue), 'QueueName'] } }],
    });
    expect(alarm('queue-age')).toMatchObject({ MetricName: 'ApproximateAgeOfOldestMessage', TreatMissingData: 'notBreaching' });
  });

  it('consumer and API function errors', () => {
    for (const [suffix, fn] of [
      ['consumer-errors', stack.pipeline.consumer],
      ['api-errors', stack.api.handler],
    ] as const) {
      expect(alarm(suffix)).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Statistic: 'Sum',
        TreatMissingData: 'notBreaching',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(fn.fn) } }],
      });
    }
  });

  it('API 5xx rate and p99 latency from the HTTP API metrics', () => {
    const rate = alarm('api-5xx-rate');
    const metrics = rate.Metrics as Json[];
    expect(metrics.find((m) => m.Expression)?.Expression).toContain('100 * errors / requests');
    const names = metrics
      .filter((m) => m.MetricStat)
      .map((m) => m.MetricStat.Metric.MetricName)
      .sort();
    expect(names).toEqual(['5xx', 'Count']);
    for (const m of metrics.filter((x) => x.MetricStat)) {
      expect(m.MetricStat.Metric.Namespace).toBe('AWS/ApiGateway');
      expect(m.MetricStat.Metric.Dimensions).toEqual([{ Name: 'ApiId', Value: { Ref: logicalId(stack.api.httpApi) } }]);
    }
    expect(rate).toMatchObject({ Threshold: 1, TreatMissingData: 'notBreaching' });
    expect(alarm('api-latency-p99')).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: 'Latency', ExtendedStatistic: 'p99', Threshold: 5000 });
  });

  it('throttles of every function but the single-flight poller', () => {
    const metrics = alarm('throttles').Metrics as Json[];
    const fns = metrics.filter((m) => m.MetricStat).map((m) => JSON.stringify(m.MetricStat.Metric.Dimensions));
    expect(metrics.filter((m) => m.MetricStat).every((m) => m.MetricStat.Metric.MetricName === 'Throttles')).toBe(true);
    expect(fns.some((d) => d.includes(logicalId(stack.api.handler.fn)))).toBe(true);
    expect(fns.some((d) => d.includes(logicalId(stack.pipeline.consumer.fn)))).toBe(true);
    expect(fns.some((d) => d.includes(logicalId(stack.pipeline.poller.fn)))).toBe(false);
  });

  it('drift: any drift the hourly validator reports', () => {
    expect(alarm('drift')).toMatchObject({
      Namespace: 'FptCache',
      MetricName: CUSTOM_METRICS.Drift,
      Dimensions: SERVICE,
      Period: 3600,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });
});

describe('sync alarms on events and schema drift', () => {
  it('cursor beyond retention: any occurrence alarms (events were lost, a rebuild runs)', () => {
    expect(alarm('cursor-beyond-retention')).toMatchObject({
      Namespace: 'FptCache',
      MetricName: CUSTOM_METRICS.CursorBeyondRetention,
      Dimensions: SERVICE,
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('site outage: failed polls two minutes running alarm (the site or its event log is down)', () => {
    expect(alarm('site-outage')).toMatchObject({
      Namespace: 'FptCache',
      MetricName: CUSTOM_METRICS.PollFailures,
      Dimensions: SERVICE,
      Statistic: 'Sum',
      Period: 60,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
    });
  });

  it('schema drift: any drifted field alarms, and the alarm holds its state between the sporadic diffs', () => {
    const a = alarm('schema-drift');
    expect(a).toMatchObject({
      Namespace: 'FptCache',
      MetricName: CUSTOM_METRICS.SchemaDrift,
      Dimensions: SERVICE,
      Statistic: 'Maximum',
      Period: 900,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'ignore',
    });
    expect(a.AlarmDescription).toContain('schema dump');
  });
});

describe('shadow verification', () => {
  it('shadow mismatch: any confirmed mismatch alarms', () => {
    const a = alarm('shadow-mismatch');
    expect(a).toMatchObject({
      Namespace: 'FptCache',
      MetricName: CUSTOM_METRICS.ShadowMismatch,
      Dimensions: SERVICE,
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(a.AlarmDescription).toContain('fpt-cache validate');
  });

  it('the verifier behind a standard queue with a dead-letter queue; the API samples 1 % into it', () => {
    const shadow = stack.shadow!;
    const q = resource(template, logicalId(shadow.queue)).Properties;
    expect(q.FifoQueue).toBeUndefined();
    expect(q.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(shadow.deadLetterQueue), 'Arn'] }, maxReceiveCount: 3 });
    const mapping = Object.values(resources).find(
      (r) => r.Type === 'AWS::Lambda::EventSourceMapping' && JSON.stringify(r.Properties.FunctionName).includes(logicalId(shadow.verifier.fn)),
    )!;
    expect(mapping.Properties).toMatchObject({ BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'], ScalingConfig: { MaximumConcurrency: 2 } });
    const apiEnv = resource(template, logicalId(stack.api.handler.fn)).Properties.Environment.Variables;
    expect(apiEnv.SHADOW_SAMPLE_RATE).toBe('0.01');
    expect(apiEnv.SHADOW_QUEUE_URL).toEqual({ Ref: logicalId(shadow.queue) });
    expect(resource(template, logicalId(shadow.verifier.fn)).Properties.Environment.Variables.SHADOW_MISMATCH_THRESHOLD).toBe('1');
  });

  it('shadowSampleRate=0 leaves the verifier, its queues and its alarm out', () => {
    const off = synth({ shadowSampleRate: '0' });
    expect(off.stack.shadow).toBeUndefined();
    const offResources = Object.values(off.template.toJSON().Resources as Record<string, Json>);
    expect(offResources.filter((r) => r.Type === 'AWS::Lambda::Function')).toHaveLength(6);
    expect(offResources.some((r) => r.Type === 'AWS::CloudWatch::Alarm' && String(r.Properties.AlarmName).endsWith('shadow-mismatch'))).toBe(false);
    expect(resource(off.template, logicalId(off.stack.api.handler.fn)).Properties.Environment.Variables.SHADOW_QUEUE_URL).toBeUndefined();
  });
});

describe('permission views', () => {
  it('the API gets the view TTL (default 600 s) and TRUSTED_PRINCIPALS only when configured; the dashboard graphs probes, verified and revoked views', () => {
    const apiEnv = resource(template, logicalId(stack.api.handler.fn)).Properties.Environment.Variables;
    expect(apiEnv.PERMISSION_VIEW_TTL_SECONDS).toBe('600');
    expect(apiEnv.TRUSTED_PRINCIPALS).toBeUndefined();
    const set = synth({ trustedPrincipals: 'script:toolkit,user:lead', permissionViewTtlSeconds: '300' });
    const env = resource(set.template, logicalId(set.stack.api.handler.fn)).Properties.Environment.Variables;
    expect(env).toMatchObject({ TRUSTED_PRINCIPALS: 'script:toolkit,user:lead', PERMISSION_VIEW_TTL_SECONDS: '300' });
    expect(() => synth({ permissionViewTtlSeconds: '3600' })).toThrow(/permissionViewTtlSeconds/);
    expect(() => synth({ trustedPrincipals: 'lead' })).toThrow(/trustedPrincipals/);
    const body = JSON.stringify(Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard')!.Properties.DashboardBody);
    for (const name of ['PermissionProbes', 'PermissionViewsVerified', 'PermissionRevocations']) expect(body).toContain(name);
  });
});

describe('metric names', () => {
  it("the API's permission metrics are CloudWatch metrics of the stack", () => {
    const names: ApiMetricName[] = ['PermissionProbes', 'PermissionViewsVerified', 'PermissionRevocations'];
    for (const n of names) expect(CUSTOM_METRICS[n as keyof typeof CUSTOM_METRICS]).toBe(n);
  });

  it("the verifier's metric names are CloudWatch metrics of the stack", () => {
    for (const [k, v] of Object.entries(SHADOW_METRICS)) expect(CUSTOM_METRICS[k as keyof typeof CUSTOM_METRICS], k).toBe(v);
  });

  it('the sync metrics are one list: every name the sync functions emit is a CloudWatch metric of the stack', () => {
    for (const [k, v] of Object.entries(SYNC_METRICS)) expect(CUSTOM_METRICS[k as keyof typeof CUSTOM_METRICS], k).toBe(v);
    expect(Object.keys(SYNC_METRICS)).toEqual(
      expect.arrayContaining([
        'EventsForwarded',
        'EventsDropped',
        'EventsExpired',
        'CursorBeyondRetention',
        'ImportedEntities',
        'ImportRemaining',
        'ReconciledEntities',
        'VanishedEntities',
        'SchemaDrift',
      ]),
    );
  });
});

describe('paging', () => {
  it('one composite alarm (any of them) notifies the SNS topic on alarm and recovery', () => {
    template.resourceCountIs('AWS::CloudWatch::CompositeAlarm', 1);
    const composite = Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::CompositeAlarm')!.Properties as Json;
    const rule = JSON.stringify(composite.AlarmRule);
    for (const [id, r] of Object.entries(resources)) if (r.Type === 'AWS::CloudWatch::Alarm') expect(rule, r.Properties.AlarmName).toContain(id);
    expect(rule).toContain(' OR ');
    const topic = { Ref: logicalId(stack.alarms.topic) };
    expect(composite.AlarmActions).toEqual([topic]);
    expect(composite.OKActions).toEqual([topic]);
  });

  it('the topic accepts TLS publishes only, and subscribes the alarm email only when one is given', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    noEmail.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('dashboard', () => {
  const body = JSON.stringify(Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard')!.Properties.DashboardBody);

  it('shows lag, throughput, hit ratio, pass reasons and API latency', () => {
    expect(body).toContain('\\"label\\":\\"api\\"');
    for (const metric of ['SyncLagSeconds', 'EventsApplied', 'CacheHit', 'CachePass', 'PollerHeartbeat', 'Backlog', 'DeadLetters', 'Drift']) {
      expect(body, metric).toContain(metric);
    }
    expect(body).toContain('hit / (hit + pass)');
    expect(body).toContain('SEARCH(');
    expect(body).toContain('reason');
    expect(body).toContain('Latency');
    expect(body).toContain('p99');
  });

  it('shows every sync metric the functions emit', () => {
    for (const metric of Object.values(SYNC_METRICS)) expect(body, metric).toContain(`\\"FptCache\\",\\"${metric}\\"`);
  });

  it('shows the status of every alarm', () => {
    const ids = Object.entries(resources)
      .filter(([, r]) => r.Type.startsWith('AWS::CloudWatch::') && r.Type.endsWith('Alarm'))
      .map(([id]) => id);
    expect(ids).toHaveLength(ALARMS.length + 1);
    for (const id of ids) expect(body).toContain(`{"Fn::GetAtt":["${id}","Arn"]}`);
  });
});

describe('signed URLs', () => {
  it('the API and the reconciler get SIGNED_URL_MARGIN_S (default 600 s; CDK context signedUrlMarginSeconds)', () => {
    const envOf = (t: typeof template, fn: typeof stack.api.handler) => resource(t, logicalId(fn.fn)).Properties.Environment.Variables;
    expect(envOf(template, stack.api.handler).SIGNED_URL_MARGIN_S).toBe('600');
    expect(envOf(template, stack.pipeline.reconciler).SIGNED_URL_MARGIN_S).toBe('600');
    const set = synth({ signedUrlMarginSeconds: '900' });
    expect(envOf(set.template, set.stack.api.handler).SIGNED_URL_MARGIN_S).toBe('900');
    expect(envOf(set.template, set.stack.pipeline.reconciler).SIGNED_URL_MARGIN_S).toBe('900');
    expect(() => synth({ signedUrlMarginSeconds: '0' })).toThrow(/signedUrlMarginSeconds/);
  });
});

describe('outage settings', () => {
  it('reach the functions that read them, in the form their own environment parsers accept (CDK context outageGraceSeconds, storeMaxLagMs, pollerStaleMs)', () => {
    const envOf = (t: typeof template, fn: typeof stack.api.handler) =>
      resource(t, logicalId(fn.fn)).Properties.Environment.Variables as Record<string, string>;
    const api = envOf(template, stack.api.handler);
    expect(outageFromEnv(api)).toEqual({ graceMs: 4 * 3600 * 1000 });
    expect(freshnessFromEnv(api)).toEqual({ enabled: true, maxLagMs: 15_000 });
    expect(envOf(template, stack.pipeline.poller).POLLER_STALE_MS).toBe('10000');
    const set = synth({ outageGraceSeconds: '0', storeMaxLagMs: '30000', pollerStaleMs: '20000' });
    expect(outageFromEnv(envOf(set.template, set.stack.api.handler))).toEqual({ graceMs: 0 });
    expect(freshnessFromEnv(envOf(set.template, set.stack.api.handler)).maxLagMs).toBe(30_000);
    expect(envOf(set.template, set.stack.pipeline.poller).POLLER_STALE_MS).toBe('20000');
    // Bounds below a few poll intervals would leave every read passing, or pollers taking each other's lease.
    expect(() => synth({ storeMaxLagMs: '5000' })).toThrow(/storeMaxLagMs/);
    expect(() => synth({ pollIntervalMs: '5000', pollerStaleMs: '10000' })).toThrow(/pollerStaleMs/);
  });
});

describe('write grouping', () => {
  it('is off unless asked for (transactions cost twice the write units); storeWriteGrouping=transact reaches the consumer', () => {
    const envOf = (t: typeof template, fn: typeof stack.api.handler) =>
      resource(t, logicalId(fn.fn)).Properties.Environment.Variables as Record<string, string>;
    expect(envOf(template, stack.pipeline.consumer).STORE_WRITE_GROUPING).toBeUndefined();
    const set = synth({ storeWriteGrouping: 'transact' });
    expect(envOf(set.template, set.stack.pipeline.consumer).STORE_WRITE_GROUPING).toBe('transact');
    expect(() => synth({ storeWriteGrouping: 'yes' as never })).toThrow(/storeWriteGrouping/);
  });
});
