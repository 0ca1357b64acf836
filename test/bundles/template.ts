// The synthesized assembly as the bundle test reads it: functions with their assets, roles, triggers, and CloudFormation references resolved to local resources.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FunctionShape } from './lambda-container.js';

export type Json = Record<string, any>;

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

/** What a template reference stands for here: the local name, URL and ARN of each resource the functions use. */
export interface LocalResource {
  ref: string;
  arn: string;
  attrs?: Record<string, string>;
}

export interface TemplateFunction extends FunctionShape {
  id: string;
  /** The template's environment, unresolved. */
  environment: Json;
  roleId: string;
}

export interface QueueTrigger {
  functionId: string;
  queueId: string;
  batchSize: number;
  maxConcurrency?: number;
  reportBatchItemFailures: boolean;
}
export interface ScheduleTrigger {
  functionId: string;
  ruleId: string;
  expression: string;
}

export class UnresolvedReference extends Error {}

/** Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Select and Fn::Split against `resources` and the pseudo parameters. */
export function resolveValue(v: unknown, resources: ReadonlyMap<string, LocalResource>): unknown {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map((x) => resolveValue(x, resources));
  if (!v || typeof v !== 'object') throw new UnresolvedReference(`cannot resolve ${JSON.stringify(v)}`);
  const o = v as Json;
  const r = (id: string) => {
    const res = resources.get(id);
    if (!res) throw new UnresolvedReference(`no local stand-in for resource ${id}`);
    return res;
  };
  if ('Ref' in o) {
    const pseudo: Record<string, string> = {
      'AWS::Region': REGION,
      'AWS::AccountId': ACCOUNT,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': 'FptCache',
    };
    return pseudo[o.Ref] ?? r(o.Ref).ref;
  }
  if ('Fn::GetAtt' in o) {
    const [id, attr] = (Array.isArray(o['Fn::GetAtt']) ? o['Fn::GetAtt'] : String(o['Fn::GetAtt']).split('.')) as [string, string];
    const res = r(id);
    const value = attr === 'Arn' ? res.arn : res.attrs?.[attr];
    if (value === undefined) throw new UnresolvedReference(`no local value for ${id}.${attr}`);
    return value;
  }
  if ('Fn::Join' in o) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return (resolveValue(parts, resources) as unknown[]).flat().join(sep);
  }
  if ('Fn::Select' in o) {
    const [i, list] = o['Fn::Select'] as [number, unknown];
    return (resolveValue(list, resources) as unknown[])[Number(i)];
  }
  if ('Fn::Split' in o) {
    const [sep, s] = o['Fn::Split'] as [string, unknown];
    return String(resolveValue(s, resources)).split(sep);
  }
  throw new UnresolvedReference(`unsupported intrinsic ${Object.keys(o).join(',')}`);
}

const localName = (prefix: string, id: string) => `${prefix}${id}`;

/** The local stand-in of every resource a function can reference (tables, queues, secrets, functions, log groups, rules). */
export function localResources(template: Json, prefix: string, endpoints: { sqs: string }): Map<string, LocalResource> {
  const out = new Map<string, LocalResource>();
  const arn = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;
  for (const [id, r] of Object.entries(template.Resources as Record<string, Json>)) {
    const name = localName(prefix, id);
    switch (r.Type) {
      case 'AWS::DynamoDB::GlobalTable':
      case 'AWS::DynamoDB::Table':
        out.set(id, { ref: name, arn: arn('dynamodb', `table/${name}`) });
        break;
      case 'AWS::SQS::Queue': {
        const q = r.Properties?.FifoQueue ? `${name}.fifo` : name;
        out.set(id, { ref: `${endpoints.sqs}/${ACCOUNT}/${q}`, arn: arn('sqs', q), attrs: { QueueName: q, QueueUrl: `${endpoints.sqs}/${ACCOUNT}/${q}` } });
        break;
      }
      case 'AWS::SecretsManager::Secret': {
        const a = arn('secretsmanager', `secret:${name}-AbCdEf`);
        out.set(id, { ref: a, arn: a });
        break;
      }
      case 'AWS::Lambda::Function':
        out.set(id, { ref: name, arn: arn('lambda', `function:${name}`) });
        break;
      case 'AWS::Logs::LogGroup':
        out.set(id, { ref: name, arn: arn('logs', `log-group:${name}:*`) });
        break;
      case 'AWS::Events::Rule':
        out.set(id, { ref: name, arn: arn('events', `rule/${name}`) });
        break;
      case 'AWS::IAM::Role':
        out.set(id, { ref: name, arn: `arn:aws:iam::${ACCOUNT}:role/${name}` });
        break;
      default:
        break;
    }
  }
  return out;
}

const resourcesOf = (t: Json, type: string): Array<[string, Json]> => Object.entries(t.Resources as Record<string, Json>).filter(([, r]) => r.Type === type);
/** The logical id a Ref or GetAtt points at. */
export function targetId(v: unknown): string | undefined {
  const o = v as Json | undefined;
  if (o?.Ref) return o.Ref as string;
  const g = o?.['Fn::GetAtt'];
  return Array.isArray(g) ? g[0] : undefined;
}

export function templateFunctions(template: Json, assemblyDir: string, resources: ReadonlyMap<string, LocalResource>): TemplateFunction[] {
  return resourcesOf(template, 'AWS::Lambda::Function').map(([id, r]) => {
    const p = r.Properties as Json;
    // The asset a function deploys is the one its S3 key names (`<hash>.zip` <- cdk.out/asset.<hash>/).
    const key = p.Code?.S3Key as string | undefined;
    const asset = (r.Metadata?.['aws:asset:path'] as string | undefined) ?? (key ? `asset.${key.replace(/\.zip$/, '')}` : undefined);
    if (!asset || !existsSync(join(assemblyDir, asset))) throw new Error(`${id} has no asset in ${assemblyDir}: was the stack synthesized with bundling?`);
    return {
      id,
      name: resources.get(id)!.ref,
      arn: resources.get(id)!.arn,
      assetDir: join(assemblyDir, asset),
      handler: p.Handler,
      runtime: p.Runtime,
      memoryMb: p.MemorySize ?? 128,
      timeoutS: p.Timeout ?? 3,
      environment: p.Environment?.Variables ?? {},
      roleId: targetId(p.Role)!,
    };
  });
}

/** Every IAM statement attached to a role, with actions and resources resolved. */
export interface Statement {
  effect: string;
  actions: string[];
  resources: string[];
  hasCondition: boolean;
}
export function roleStatements(template: Json, roleId: string, resources: ReadonlyMap<string, LocalResource>): Statement[] {
  const out: Statement[] = [];
  for (const [, r] of resourcesOf(template, 'AWS::IAM::Policy')) {
    if (!(r.Properties.Roles as unknown[]).some((x) => targetId(x) === roleId)) continue;
    for (const s of r.Properties.PolicyDocument.Statement as Json[]) {
      const list = (v: unknown) =>
        [v].flat().map((x) => {
          try {
            return String(resolveValue(x, resources));
          } catch {
            return `unresolved:${JSON.stringify(x)}`;
          }
        });
      out.push({ effect: s.Effect, actions: list(s.Action), resources: list(s.Resource ?? '*'), hasCondition: s.Condition !== undefined });
    }
  }
  return out;
}

export function queueTriggers(template: Json): QueueTrigger[] {
  return resourcesOf(template, 'AWS::Lambda::EventSourceMapping').map(([, r]) => ({
    functionId: targetId(r.Properties.FunctionName)!,
    queueId: targetId(r.Properties.EventSourceArn)!,
    batchSize: r.Properties.BatchSize ?? 10,
    maxConcurrency: r.Properties.ScalingConfig?.MaximumConcurrency,
    reportBatchItemFailures: ((r.Properties.FunctionResponseTypes ?? []) as string[]).includes('ReportBatchItemFailures'),
  }));
}

export function scheduleTriggers(template: Json): ScheduleTrigger[] {
  return resourcesOf(template, 'AWS::Events::Rule').flatMap(([ruleId, r]) =>
    ((r.Properties.Targets ?? []) as Json[]).map((t) => ({ functionId: targetId(t.Arn)!, ruleId, expression: r.Properties.ScheduleExpression as string })),
  );
}

/** The tables and queues of the template, to create locally with the template's own keys, indexes and queue types. */
export function tableDefinitions(template: Json): Array<{ id: string; properties: Json }> {
  return [...resourcesOf(template, 'AWS::DynamoDB::GlobalTable'), ...resourcesOf(template, 'AWS::DynamoDB::Table')].map(([id, r]) => ({
    id,
    properties: r.Properties,
  }));
}
export function queueDefinitions(template: Json): Array<{ id: string; properties: Json }> {
  return resourcesOf(template, 'AWS::SQS::Queue').map(([id, r]) => ({ id, properties: r.Properties ?? {} }));
}
