// Test helper: synthesizes the stack with bundling skipped (fast) and offers lookups over the template by construct.
import { join } from 'node:path';
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { REPO_ROOT, parseConfig, type CacheConfigInput } from '../../infra/config.js';
import { FptCacheStack } from '../../infra/stack.js';

// aws-cdk-lib keeps caches under CDK_HOME: keep them inside the repo (gitignored), not in the user's home.
process.env.CDK_HOME ??= join(REPO_ROOT, '.cdk');

export const TEST_SITE = 'https://studio.shotgrid.autodesk.com';

export interface Synthesized {
  app: App;
  stack: FptCacheStack;
  template: Template;
}

/** One stack, bundling skipped (the `aws:cdk:bundling-stacks` context), with a real-looking site unless overridden. */
export function synth(input: CacheConfigInput = {}, id = 'FptCacheTest'): Synthesized {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new FptCacheStack(app, id, {
    config: parseConfig({ siteUrl: TEST_SITE, scriptName: 'fpt-cache-sync', alarmEmail: 'ops@example.com', ...input }),
  });
  return { app, stack, template: Template.fromStack(stack) };
}

/** The logical id of a construct's CloudFormation resource (its default child, or itself). */
export function logicalId(c: IConstruct): string {
  const el = (c.node.defaultChild ?? c) as CfnElement;
  return Stack.of(c).getLogicalId(el);
}

export type Json = Record<string, any>;

export function resource(template: Template, id: string): Json {
  const r = template.toJSON().Resources[id];
  if (!r) throw new Error(`no resource ${id}`);
  return r;
}

/** True when a CloudFormation value references `id` (Ref, GetAtt, or inside a Join). */
export function refersTo(value: unknown, id: string): boolean {
  return JSON.stringify(value).includes(`"${id}"`);
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** Every statement of every policy attached to the role. */
export function statementsOf(template: Template, roleId: string): Statement[] {
  const out: Statement[] = [];
  for (const r of Object.values(template.toJSON().Resources) as Json[]) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    if (!(r.Properties.Roles as unknown[]).some((x) => refersTo(x, roleId))) continue;
    out.push(...(r.Properties.PolicyDocument.Statement as Statement[]));
  }
  return out;
}

const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** Whether the role may perform `action` on the resource with logical id `resourceId` (exactly that ARN, not a sub-resource). */
export function allows(template: Template, roleId: string, action: string, resourceId: string, opts: { subResource?: string } = {}): boolean {
  return statementsOf(template, roleId).some(
    (s) =>
      s.Effect === 'Allow' &&
      asList(s.Action).includes(action) &&
      asList(s.Resource as unknown).some((r) => {
        if (!refersTo(r, resourceId)) return false;
        const text = JSON.stringify(r);
        return opts.subResource ? text.includes(opts.subResource) : !text.includes('/index/');
      }),
  );
}

/** Whether the role has any permission at all on the resource. */
export function touches(template: Template, roleId: string, resourceId: string): boolean {
  return statementsOf(template, roleId).some((s) => asList(s.Resource as unknown).some((r) => refersTo(r, resourceId)));
}
