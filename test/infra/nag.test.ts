import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { REPO_ROOT } from '../../infra/config.js';
import { synth } from './synth.js';

const { app } = synth();
const variant = synth(
  {
    domainName: 'fpt-cache.studio.example',
    certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666',
    scriptKeySecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:studio/fpt-script-AbC123',
    alarmEmail: '',
  },
  'FptCacheVariant',
);

/** Every acknowledgment in the tree: rule id -> reasons. */
function acknowledgments(root: IConstruct): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const c of root.node.findAll()) {
    for (const m of c.node.metadata) {
      if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(m.data as Record<string, string>)) {
        const rule = id.replace(/^annotation::/i, '');
        out.set(rule, [...(out.get(rule) ?? []), reason]);
      }
    }
  }
  return out;
}

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in the stack: no errors, no warnings', () => {
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.violations.map((v) => `${v.severity} ${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(',')}`)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('finds nothing in the custom-domain, existing-secret variant either', () => {
    const report = new AwsSolutionsChecks(variant.app).validateScope(variant.app);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('is live: an older runtime (nodejs22.x) is reported; the stack passes L1 by running the newest (nodejs24.x)', () => {
    const bare = new App();
    const s = new Stack(bare, 'Bare');
    new lambda.Function(s, 'Fn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=()=>{}') });
    const rules = new AwsSolutionsChecks(bare).validateScope(bare).violations.map((v) => v.ruleName);
    expect(rules).toContain('AwsSolutions-L1');
    expect(rules).toContain('AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]');
  });

  it('acknowledges only the two justified rules, each with a reason', () => {
    const acks = acknowledgments(app);
    expect([...acks.keys()].sort()).toEqual(['AwsSolutions-APIG4', 'AwsSolutions-SMG4']);
    for (const [rule, reasons] of acks) for (const r of reasons) expect(r.length, rule).toBeGreaterThan(80);
    // One per route: /api3/json, /{prefix+}, /status and the three file-transfer GETs.
    expect(acks.get('AwsSolutions-APIG4')).toHaveLength(6);
  });
});

describe('infra/app.ts (the cdk.json entry)', () => {
  const out = mkdtempSync(join(tmpdir(), 'fpt-infra-app-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  const run = (context: Record<string, unknown>) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      // CDK_VALIDATION=false skips aws-cdk-lib's built-in template rules (slow; their findings never fail a synth),
      // not the cdk-nag plugin the app registers. `npm run synth` runs both.
      env: { ...process.env, CDK_OUTDIR: out, CDK_VALIDATION: 'false', CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [], ...context }) },
    });

  it('synthesizes with no other context, with the nag plugin registered and passing', () => {
    const r = run({});
    expect(r.stderr).not.toContain('Validation failed');
    expect(r.status).toBe(0);
    expect(existsSync(join(out, 'FptCache.template.json'))).toBe(true);
    const report = JSON.parse(readFileSync(join(out, 'validation-report.json'), 'utf8')) as { pluginReports: unknown[] };
    expect(report.pluginReports).toEqual([]);
    // The plugin ran: it wrote the acknowledgments into the template.
    const template = JSON.parse(readFileSync(join(out, 'FptCache.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Metadata?: { cdk_nag?: { rules_to_suppress: { id: string; reason: string }[] } } }>;
    };
    const fns = Object.values(template.Resources).filter((x) => x.Type === 'AWS::Lambda::Function');
    expect(fns.length).toBeGreaterThan(0);
    // The functions need no runtime acknowledgment (AwsSolutions-L1): they run the newest Node runtime.
    for (const f of fns) expect(f.Metadata?.cdk_nag?.rules_to_suppress?.map((x) => x.id) ?? []).not.toContain('AwsSolutions-L1');
    const apiRoutes = Object.values(template.Resources).filter((x) => x.Type === 'AWS::ApiGatewayV2::Route');
    for (const r of apiRoutes) expect(r.Metadata?.cdk_nag?.rules_to_suppress.map((x) => x.id)).toContain('AwsSolutions-APIG4');
  });

  it('stops with one clear line per bad key', () => {
    const r = run({ pollIntervalMs: 'often', certificateArn: 'nope' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('invalid fpt-cache configuration');
    expect(r.stderr).toContain('-c pollIntervalMs:');
    expect(r.stderr).toContain('-c certificateArn:');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
