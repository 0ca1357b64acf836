import { describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { TABLE_SPECS, type TableSpec } from '../../shared/store/index.js';
import { MAX_RECEIVE_COUNT } from '../../infra/constructs/sync-pipeline.js';
import { logicalId, resource, synth, type Json } from './synth.js';

const { stack, template } = synth();
// Every non-default setting this file checks, in one second synth.
const variant = synth({
  stateRemovalPolicy: 'destroy',
  entitiesRemovalPolicy: 'retain',
  maxConcurrency: '12',
  pollIntervalMs: '1500',
  reconcileIntervalMinutes: '10',
  reconcileFloorMinutes: '2',
  validateIntervalMinutes: '30',
});
const resources = template.toJSON().Resources as Record<string, Json>;
const p = stack.pipeline;

function expectedAttributes(spec: TableSpec): { AttributeName: string; AttributeType: string }[] {
  const m = new Map<string, string>();
  for (const k of [spec.partitionKey, spec.sortKey, ...spec.indexes.flatMap((i) => [i.partitionKey, i.sortKey])]) m.set(k.name, k.type);
  return [...m].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })).sort((a, b) => a.AttributeName.localeCompare(b.AttributeName));
}

describe('DynamoDB tables (from shared/store/table-design.ts)', () => {
  const tables = { entities: stack.tables.entities, state: stack.tables.state, refs: stack.tables.refs };

  it('creates exactly one table per TABLE_SPECS entry', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', TABLE_SPECS.length);
    expect(Object.keys(tables).sort()).toEqual(TABLE_SPECS.map((s) => s.logical).sort());
  });

  for (const spec of TABLE_SPECS) {
    describe(spec.logical, () => {
      const props = () => resource(template, logicalId(tables[spec.logical].table)).Properties as Json;

      it("has the spec's key schema, attribute types and on-demand billing", () => {
        const p = props();
        expect(p.KeySchema).toEqual([
          { AttributeName: spec.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: spec.sortKey.name, KeyType: 'RANGE' },
        ]);
        expect([...p.AttributeDefinitions].sort((a: Json, b: Json) => a.AttributeName.localeCompare(b.AttributeName))).toEqual(expectedAttributes(spec));
        expect(p.BillingMode).toBe('PAY_PER_REQUEST');
      });

      it('has every GSI of the spec with its keys and projection, and no other', () => {
        const gsis = (props().GlobalSecondaryIndexes ?? []) as Json[];
        expect(gsis.map((g) => g.IndexName)).toEqual(spec.indexes.map((i) => i.name));
        for (const i of spec.indexes) {
          const g = gsis.find((x) => x.IndexName === i.name)!;
          expect(g.KeySchema).toEqual([
            { AttributeName: i.partitionKey.name, KeyType: 'HASH' },
            { AttributeName: i.sortKey.name, KeyType: 'RANGE' },
          ]);
          const projection =
            i.projection === 'ALL' || i.projection === 'KEYS_ONLY'
              ? { ProjectionType: i.projection }
              : { ProjectionType: 'INCLUDE', NonKeyAttributes: i.projection.include };
          expect(g.Projection).toEqual(projection);
        }
      });

      it('has point-in-time recovery on', () => {
        expect(props().Replicas[0].PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      });

      it("has the spec's TTL attribute (or none)", () => {
        const ttl = props().TimeToLiveSpecification;
        if (spec.ttlAttribute) expect(ttl).toEqual({ AttributeName: spec.ttlAttribute, Enabled: true });
        else expect(ttl).toBeUndefined();
      });
    });
  }

  it('retains every table and protects each from deletion, by default', () => {
    for (const t of [stack.tables.state, stack.tables.entities, stack.tables.refs]) {
      const r = resource(template, logicalId(t.table));
      expect(r.DeletionPolicy).toBe('Retain');
      expect(r.Properties.Replicas[0].DeletionProtectionEnabled).toBe(true);
    }
  });

  it('makes the removal policies configurable', () => {
    const v = variant;
    expect(resource(v.template, logicalId(v.stack.tables.state.table)).DeletionPolicy).toBe('Delete');
    expect(resource(v.template, logicalId(v.stack.tables.entities.table)).DeletionPolicy).toBe('Retain');
    expect(resource(v.template, logicalId(v.stack.tables.refs.table)).DeletionPolicy).toBe('Retain');
    // Deletion protection stays on whatever the policy: an operator turns it off before destroying a table.
    expect(resource(v.template, logicalId(v.stack.tables.state.table)).Properties.Replicas[0].DeletionProtectionEnabled).toBe(true);
  });
});

describe('SQS FIFO queue and DLQ', () => {
  const queue = () => resource(template, logicalId(p.queue)).Properties as Json;
  const dlq = () => resource(template, logicalId(p.deadLetterQueue)).Properties as Json;

  it('is FIFO with content-based dedup off, SQS-managed encryption, and a FIFO DLQ after 5 receives', () => {
    expect(queue()).toMatchObject({ FifoQueue: true, ContentBasedDeduplication: false, SqsManagedSseEnabled: true });
    expect(queue().RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(p.deadLetterQueue), 'Arn'] }, maxReceiveCount: MAX_RECEIVE_COUNT });
    expect(MAX_RECEIVE_COUNT).toBe(5);
    expect(dlq()).toMatchObject({ FifoQueue: true, SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
  });

  it('has a visibility timeout of at least 6x the consumer timeout', () => {
    const consumerTimeout = resource(template, logicalId(p.consumer.fn)).Properties.Timeout as number;
    expect(consumerTimeout).toBeGreaterThan(0);
    expect(queue().VisibilityTimeout).toBeGreaterThanOrEqual(6 * consumerTimeout);
  });

  it('denies non-TLS access to both queues', () => {
    for (const q of [p.queue, p.deadLetterQueue]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(q) }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
  });
});

describe('consumer event source mapping', () => {
  it('reads the FIFO queue in batches of 10, reports partial failures, and caps concurrency', () => {
    // Two mappings: the consumer's on the event queue and the shadow verifier's on its sample queue.
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(p.queue), 'Arn'] },
      FunctionName: { Ref: logicalId(p.consumer.fn) },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });

  it('takes maxConcurrency from configuration', () => {
    variant.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 12 } });
  });
});

describe('poller', () => {
  const poller = () => resource(template, logicalId(p.poller.fn)).Properties as Json;

  it('is single-flight: reserved concurrency 1', () => {
    expect(poller().ReservedConcurrentExecutions).toBe(1);
  });

  it('drops a missed tick instead of queueing it: max event age 60 s, no retries', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(p.poller.fn) },
      Qualifier: '$LATEST',
      MaximumEventAgeInSeconds: 60,
      MaximumRetryAttempts: 0,
    });
  });

  it('runs every minute from an EventBridge rule (no retries of the invoke either)', () => {
    const rules = Object.values(resources).filter(
      (r) => r.Type === 'AWS::Events::Rule' && (r.Properties.Targets as Json[]).some((t) => JSON.stringify(t.Arn).includes(logicalId(p.poller.fn))),
    );
    expect(rules).toHaveLength(1);
    expect(rules[0].Properties.ScheduleExpression).toBe('rate(1 minute)');
    expect(rules[0].Properties.Targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 });
  });

  it('loops inside the tick: timeout above a minute but below two, poll interval in env', () => {
    expect(poller().Timeout).toBeGreaterThan(60);
    expect(poller().Timeout).toBeLessThan(120);
    expect(Number(poller().Environment.Variables.POLL_LOOP_MS)).toBeLessThan(60_000);
    expect(poller().Environment.Variables.POLL_INTERVAL_MS).toBe('2000');
    expect(resource(variant.template, logicalId(variant.stack.pipeline.poller.fn)).Properties.Environment.Variables.POLL_INTERVAL_MS).toBe('1500');
  });

  it('knows the import runner and the queue', () => {
    expect(poller().Environment.Variables.IMPORTER_FUNCTION_NAME).toEqual({ Ref: logicalId(p.importer.fn) });
    expect(poller().Environment.Variables.EVENTS_QUEUE_URL).toEqual({ Ref: logicalId(p.queue) });
  });
});

describe('import runner, reconciler and validator', () => {
  it("gives the import runner Lambda's full 15 minutes and no async retries", () => {
    expect(resource(template, logicalId(p.importer.fn)).Properties.Timeout).toBe(900);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: logicalId(p.importer.fn) }, MaximumRetryAttempts: 0 });
  });

  const scheduleOf = (fnId: string) =>
    Object.values(resources).find((r) => r.Type === 'AWS::Events::Rule' && JSON.stringify(r.Properties.Targets).includes(fnId))?.Properties.ScheduleExpression;

  it('runs the reconciler every minute (the floor; each type scanned when its 5-minute adaptive interval is due) and the validator hourly', () => {
    expect(scheduleOf(logicalId(p.reconciler.fn))).toBe('rate(1 minute)');
    const env = resource(template, logicalId(p.reconciler.fn)).Properties.Environment.Variables;
    expect([env.RECONCILE_INTERVAL_MS, env.RECONCILE_FLOOR_MS]).toEqual([String(5 * 60_000), String(60_000)]);
    expect(scheduleOf(logicalId(p.validator.fn))).toBe('rate(1 hour)');
    expect(resource(template, logicalId(p.reconciler.fn)).Properties.Timeout).toBeLessThan(300);
    expect(resource(template, logicalId(p.validator.fn)).Properties.Timeout).toBeLessThanOrEqual(900);
    expect(scheduleOf(logicalId(p.importer.fn))).toBeUndefined();
  });

  it('takes the intervals from configuration', () => {
    const v = variant;
    const res = v.template.toJSON().Resources as Record<string, Json>;
    const sched = (id: string) =>
      Object.values(res).find((r) => r.Type === 'AWS::Events::Rule' && JSON.stringify(r.Properties.Targets).includes(id))?.Properties.ScheduleExpression;
    expect(sched(logicalId(v.stack.pipeline.reconciler.fn))).toBe('rate(2 minutes)');
    const env = (res[logicalId(v.stack.pipeline.reconciler.fn)].Properties as Json).Environment.Variables;
    expect([env.RECONCILE_INTERVAL_MS, env.RECONCILE_FLOOR_MS]).toEqual([String(10 * 60_000), String(2 * 60_000)]);
    expect(sched(logicalId(v.stack.pipeline.validator.fn))).toBe('rate(30 minutes)');
  });
});
