import { describe, expect, it } from 'vitest';
import { allows, logicalId, resource, statementsOf, synth, touches, type Json } from './synth.js';

const { stack, template } = synth();
const resources = template.toJSON().Resources as Record<string, Json>;
const p = stack.pipeline;
const role = (f: { role: unknown }) => logicalId(f.role as never);
const entities = logicalId(stack.tables.entities.table);
const state = logicalId(stack.tables.state.table);
const refs = logicalId(stack.tables.refs.table);
const queue = logicalId(p.queue);
const secret = logicalId(stack.siteSecret.secret);

const READ = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'];
const WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
const shadow = stack.shadow!;
const samples = logicalId(shadow.queue);
const functions = {
  poller: p.poller,
  consumer: p.consumer,
  importer: p.importer,
  reconciler: p.reconciler,
  validator: p.validator,
  api: stack.api.handler,
  verifier: shadow.verifier,
};

describe('one role per function, nothing inherited', () => {
  it('gives every function its own role, assumable only by Lambda, without managed policies', () => {
    const lambdas = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    const roles = new Set(lambdas.map((f) => JSON.stringify(f.Properties.Role)));
    expect(lambdas).toHaveLength(Object.keys(functions).length);
    expect(roles.size).toBe(lambdas.length);
    for (const r of Object.values(resources).filter((x) => x.Type === 'AWS::IAM::Role')) {
      expect(r.Properties.ManagedPolicyArns).toBeUndefined();
      expect(r.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ]);
    }
  });

  it('lets each function write only to its own log group', () => {
    for (const [name, f] of Object.entries(functions)) {
      const logStatements = statementsOf(template, role(f)).filter((s) => JSON.stringify(s.Action).includes('logs:'));
      expect(logStatements, name).toHaveLength(1);
      expect(logStatements[0].Resource, name).toEqual({ 'Fn::GetAtt': [logicalId(f.logGroup), 'Arn'] });
      expect([logStatements[0].Action].flat().sort(), name).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    }
  });

  it('uses no wildcard resource or action anywhere', () => {
    for (const r of Object.values(resources).filter((x) => x.Type === 'AWS::IAM::Policy')) {
      for (const s of r.Properties.PolicyDocument.Statement as Json[]) {
        for (const a of [s.Action].flat()) expect(a).not.toContain('*');
        // Literal parts of every resource (Ref/GetAtt are exact ARNs).
        expect(JSON.stringify(s.Resource)).not.toMatch(/\*/);
      }
    }
  });

  it('never grants table-level or stream actions on the tables', () => {
    for (const r of Object.values(resources).filter((x) => x.Type === 'AWS::IAM::Policy')) {
      const actions = (r.Properties.PolicyDocument.Statement as Json[]).flatMap((s) => [s.Action].flat());
      for (const a of ['dynamodb:DeleteTable', 'dynamodb:UpdateTable', 'dynamodb:CreateTable', 'dynamodb:GetRecords', 'dynamodb:PartiQLUpdate']) {
        expect(actions).not.toContain(a);
      }
    }
  });
});

describe('least privilege per function', () => {
  it('api: reads entities (table and its indexes) and writes them through, reads and writes state, reads the key, nothing else', () => {
    const r = role(stack.api.handler);
    for (const a of READ) expect(allows(template, r, a, entities), a).toBe(true);
    expect(allows(template, r, 'dynamodb:Query', entities, { subResource: '/index/byProject' })).toBe(true);
    // Write-through (read-your-writes): the entities a caller wrote go into the cache at once.
    for (const a of WRITE) expect(allows(template, r, a, entities), a).toBe(true);
    for (const a of [...READ, ...WRITE]) expect(allows(template, r, a, state), a).toBe(true);
    // Edge items: membership reads and the edges of written-through entities.
    for (const a of [...READ, ...WRITE]) expect(allows(template, r, a, refs), a).toBe(true);
    expect(touches(template, r, queue)).toBe(false);
    // The cache's own script key: write-through read-backs and the HMAC key of auth verdicts.
    expect(allows(template, r, 'secretsmanager:GetSecretValue', secret)).toBe(true);
    // Sampled hits go to the verifier's queue: send only, nothing else of SQS or Lambda.
    expect(allows(template, r, 'sqs:SendMessage', samples)).toBe(true);
    expect(allows(template, r, 'sqs:ReceiveMessage', samples)).toBe(false);
    expect(
      statementsOf(template, r)
        .filter((s) => [s.Action].flat().some((a) => a.startsWith('sqs:')))
        .map((s) => s.Resource),
    ).toEqual([{ 'Fn::GetAtt': [samples, 'Arn'] }]);
    expect(
      statementsOf(template, r)
        .flatMap((s) => [s.Action].flat())
        .filter((a) => a.startsWith('lambda:')),
    ).toEqual([]);
  });

  it('verifier: reads entities and repairs stale ones, records verdicts in the state table, consumes (never sends to) the sample queue, reads the key', () => {
    const r = role(shadow.verifier);
    for (const a of [...READ, ...WRITE]) {
      expect(allows(template, r, a, entities), a).toBe(true);
      expect(allows(template, r, a, refs), a).toBe(true);
    }
    for (const a of [...READ, ...WRITE]) expect(allows(template, r, a, state), a).toBe(true);
    for (const a of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']) expect(allows(template, r, a, samples), a).toBe(true);
    expect(allows(template, r, 'sqs:SendMessage', samples)).toBe(false);
    expect(touches(template, r, queue)).toBe(false);
    expect(allows(template, r, 'secretsmanager:GetSecretValue', secret)).toBe(true);
  });

  it('poller: state read/write and queue send; cannot see the entities table; invokes only the importer', () => {
    const r = role(p.poller);
    expect(touches(template, r, entities)).toBe(false);
    expect(touches(template, r, refs)).toBe(false);
    for (const a of [...READ, ...WRITE]) expect(allows(template, r, a, state), a).toBe(true);
    expect(allows(template, r, 'sqs:SendMessage', queue)).toBe(true);
    expect(allows(template, r, 'sqs:ReceiveMessage', queue)).toBe(false);
    expect(allows(template, r, 'secretsmanager:GetSecretValue', secret)).toBe(true);
    const invokes = statementsOf(template, r).filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'));
    expect(invokes.map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [logicalId(p.importer.fn), 'Arn'] }]);
  });

  it('consumer: entities and state read/write, consumes (never sends to) the queue, reads the key', () => {
    const r = role(p.consumer);
    for (const a of [...READ, ...WRITE]) {
      expect(allows(template, r, a, entities), a).toBe(true);
      expect(allows(template, r, a, state), a).toBe(true);
      expect(allows(template, r, a, refs), a).toBe(true);
    }
    for (const a of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']) expect(allows(template, r, a, queue), a).toBe(true);
    expect(allows(template, r, 'sqs:SendMessage', queue)).toBe(false);
    expect(allows(template, r, 'secretsmanager:GetSecretValue', secret)).toBe(true);
  });

  it('validator: reads entities but cannot change them', () => {
    const r = role(p.validator);
    expect(allows(template, r, 'dynamodb:Query', entities)).toBe(true);
    expect(allows(template, r, 'dynamodb:Query', refs)).toBe(true);
    for (const a of WRITE) expect(allows(template, r, a, entities), a).toBe(false);
    for (const a of WRITE) expect(allows(template, r, a, refs), a).toBe(false);
    expect(touches(template, r, queue)).toBe(false);
  });

  it('importer and reconciler: entities and state read/write, no queue', () => {
    for (const f of [p.importer, p.reconciler]) {
      const r = role(f);
      expect(allows(template, r, 'dynamodb:PutItem', entities)).toBe(true);
      expect(allows(template, r, 'dynamodb:PutItem', state)).toBe(true);
      expect(allows(template, r, 'dynamodb:BatchWriteItem', refs)).toBe(true);
      expect(allows(template, r, 'dynamodb:Query', refs)).toBe(true);
      expect(touches(template, r, queue)).toBe(false);
    }
  });

  it('writes only to base tables, never to index ARNs', () => {
    for (const f of Object.values(functions)) {
      for (const s of statementsOf(template, role(f))) {
        if ([s.Action].flat().some((a) => WRITE.includes(a))) expect(JSON.stringify(s.Resource)).not.toContain('/index/');
      }
    }
  });
});

describe('the script key', () => {
  const env = (f: { fn: unknown }) => resource(template, logicalId(f.fn as never)).Properties.Environment.Variables as Json;

  it('lives in a secret the stack creates with a placeholder: the key itself never passes through CloudFormation', () => {
    const s = resource(template, secret);
    expect(s.Type).toBe('AWS::SecretsManager::Secret');
    expect(s.Properties.SecretString).toBeUndefined();
    expect(JSON.parse(s.Properties.GenerateSecretString.SecretStringTemplate)).toEqual({ fptCacheScriptKeyUnset: true });
  });

  it('reaches the functions that call the site as the script by ARN only; no env var holds a key', () => {
    for (const f of [p.poller, p.consumer, p.importer, p.reconciler, p.validator, stack.api.handler]) {
      expect(env(f).SHOTGUN_SCRIPT_KEY_SECRET_ARN).toEqual({ Ref: secret });
      expect(allows(template, role(f), 'secretsmanager:GetSecretValue', secret)).toBe(true);
    }
    for (const r of Object.values(resources).filter((x) => x.Type === 'AWS::Lambda::Function')) {
      const names = Object.keys(r.Properties.Environment.Variables);
      expect(names).not.toContain('SHOTGUN_SCRIPT_KEY');
      expect(names.filter((n) => /KEY|SECRET|PASSWORD|TOKEN/.test(n) && n !== 'SHOTGUN_SCRIPT_KEY_SECRET_ARN' && n !== 'VERDICT_KEY_SECRET_ARN')).toEqual([]);
    }
  });

  it('keys auth verdicts with their own generated secret, read by the API function only (never the script key)', () => {
    const verdict = logicalId(stack.api.verdictSecret.secret);
    expect(resource(template, verdict).Properties.GenerateSecretString).toMatchObject({ PasswordLength: 64 });
    expect(env(stack.api.handler).VERDICT_KEY_SECRET_ARN).toEqual({ Ref: verdict });
    expect(allows(template, role(stack.api.handler), 'secretsmanager:GetSecretValue', verdict)).toBe(true);
    for (const f of [p.poller, p.consumer, p.importer, p.reconciler, p.validator]) {
      expect(allows(template, role(f), 'secretsmanager:GetSecretValue', verdict)).toBe(false);
    }
  });

  it('uses an existing secret by exact ARN when configured, creating none', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:studio/fpt-script-AbC123';
    const v = synth({ scriptKeySecretArn: arn });
    // Only the verdict key's own secret is created.
    v.template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    const poller = resource(v.template, logicalId(v.stack.pipeline.poller.fn)).Properties;
    expect(poller.Environment.Variables.SHOTGUN_SCRIPT_KEY_SECRET_ARN).toBe(arn);
    const stmts = statementsOf(v.template, logicalId(v.stack.pipeline.poller.role)).filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    expect(stmts.map((s) => s.Resource)).toEqual([arn]);
  });
});
