import { describe, expect, it } from 'vitest';
import { App } from 'aws-cdk-lib';
import { ConfigError, PLACEHOLDER_SITE_URL, configFromContext, parseConfig } from '../../infra/config.js';
import { FptCacheStack } from '../../infra/stack.js';
import './synth.js';

function errorOf(raw: Record<string, unknown>): ConfigError {
  try {
    parseConfig(raw);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
}

describe('configuration', () => {
  it('has defaults that synthesize with no context at all', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({
      stackName: 'FptCache',
      siteUrl: PLACEHOLDER_SITE_URL,
      pollIntervalMs: 2000,
      maxConcurrency: 5,
      apiThrottleBurst: 200,
      apiThrottleRate: 100,
      logRetentionDays: 30,
      stateRemovalPolicy: 'retain',
      entitiesRemovalPolicy: 'retain',
      apiReservedConcurrency: 20,
    });
    expect(c.alarmEmail).toBeUndefined();
    expect(c.scriptKeySecretArn).toBeUndefined();
  });

  it('reads every key from CDK context, coercing the strings `-c key=value` gives', () => {
    const app = new App({
      context: {
        siteUrl: 'https://studio.shotgrid.autodesk.com/',
        maxConcurrency: '8',
        pollIntervalMs: '1000',
        alarmEmail: 'ops@studio.example',
        unrelated: 'x',
      },
    });
    expect(configFromContext(app.node)).toMatchObject({
      siteUrl: 'https://studio.shotgrid.autodesk.com',
      maxConcurrency: 8,
      pollIntervalMs: 1000,
      alarmEmail: 'ops@studio.example',
    });
  });

  it('treats an empty value as unset', () => {
    expect(parseConfig({ alarmEmail: '', domainName: ' ' }).alarmEmail).toBeUndefined();
  });

  it('names every bad key in one error', () => {
    const e = errorOf({ siteUrl: 'not a url', pollIntervalMs: 'abc', maxConcurrency: '1', alarmEmail: 'nobody', logRetentionDays: '31' });
    expect(e.issues.map((i) => i.key).sort()).toEqual(['alarmEmail', 'logRetentionDays', 'maxConcurrency', 'pollIntervalMs', 'siteUrl']);
    expect(e.message).toContain('-c maxConcurrency:');
    expect(e.message).toContain('-c siteUrl:');
  });

  it('requires the certificate with a custom domain, and the domain with a certificate', () => {
    expect(errorOf({ domainName: 'fpt.studio.example' }).issues).toEqual([{ key: 'certificateArn', message: 'is required when domainName is set' }]);
    expect(errorOf({ certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666' }).issues[0].key).toBe('domainName');
  });

  it('accepts only complete secret ARNs (exact IAM grants) and existing schema files', () => {
    expect(errorOf({ scriptKeySecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:fpt-key' }).issues[0].key).toBe('scriptKeySecretArn');
    expect(parseConfig({ scriptKeySecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:fpt-key-AbC123' }).scriptKeySecretArn).toMatch(/AbC123$/);
    const e = errorOf({ schemaFile: 'schema/does-not-exist.yml' });
    expect(e.issues[0].key).toBe('schemaFile');
    expect(e.message).toContain('does-not-exist.yml');
  });

  it('warns on the stack when deployed with the placeholder site or no alarm email, and not otherwise', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const placeholder = new FptCacheStack(app, 'Placeholder', { config: parseConfig({}) });
    const real = new FptCacheStack(app, 'Real', { config: parseConfig({ siteUrl: 'https://studio.shotgrid.autodesk.com', alarmEmail: 'ops@studio.example' }) });
    // The stack's own warning metadata (Annotations.fromStack would run the slow synth-time validation).
    const warnings = (s: FptCacheStack) => s.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
    expect(warnings(placeholder).some((w) => w.includes('siteUrl is the placeholder'))).toBe(true);
    expect(warnings(placeholder).some((w) => w.includes('alarmEmail'))).toBe(true);
    expect(warnings(real).filter((w) => w.includes('siteUrl') || w.includes('alarmEmail'))).toEqual([]);
  });
});
