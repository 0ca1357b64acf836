import { createServer, type Server } from 'node:http';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/ports.js';
import { SCRIPT_KEY_UNSET_FIELD, SiteCredentials, SiteCredentialsError, getScriptKey, getSiteCredentials } from '../../shared/site/index.js';

// Secrets Manager cannot run here: a minimal stand-in speaking its JSON protocol (X-Amz-Target GetSecretValue) over
// real HTTP, so the real SDK client (through Powertools Parameters) does the call, the signing and the parsing.
const secrets = new Map<string, string>();
const calls: string[] = [];
let server: Server;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      const target = String(req.headers['x-amz-target']);
      const { SecretId } = JSON.parse(body) as { SecretId: string };
      calls.push(`${target} ${SecretId}`);
      const value = secrets.get(SecretId);
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (target !== 'secretsmanager.GetSecretValue' || value === undefined) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }));
        return;
      }
      res.end(
        JSON.stringify({
          ARN: SecretId,
          Name: SecretId.split(':').pop(),
          SecretString: value,
          VersionId: 'v1',
          VersionStages: ['AWSCURRENT'],
          CreatedDate: 1_700_000_000,
        }),
      );
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbC123`;
const fromSecret = (a: string) => ({
  SHOTGUN_SCRIPT_KEY_SECRET_ARN: a,
  SHOTGUN_URL: 'https://studio.shotgrid.autodesk.com/',
  SHOTGUN_SCRIPT_NAME: 'fpt-cache-sync',
});

describe('site credentials', () => {
  it('reads the key from the secret once, then from the cache; forceFetch asks again', async () => {
    const a = arn('plain');
    secrets.set(a, 'k3y-from-secrets-manager\n');
    expect(await getScriptKey({ env: fromSecret(a) })).toBe('k3y-from-secrets-manager');
    secrets.set(a, 'rotated-key');
    expect(await getScriptKey({ env: fromSecret(a) })).toBe('k3y-from-secrets-manager');
    expect(calls.filter((c) => c.endsWith(a))).toEqual([`secretsmanager.GetSecretValue ${a}`]);
    expect(await getScriptKey({ env: fromSecret(a), forceFetch: true })).toBe('rotated-key');
    expect(calls.filter((c) => c.endsWith(a))).toHaveLength(2);
  });

  it('accepts JSON {"script_key": ...} as the secret value', async () => {
    const a = arn('json');
    secrets.set(a, JSON.stringify({ script_key: 'json-key' }));
    expect(await getScriptKey({ env: fromSecret(a) })).toBe('json-key');
  });

  it('refuses the placeholder the stack creates, saying how to set the key', async () => {
    const a = arn('unset');
    secrets.set(a, JSON.stringify({ [SCRIPT_KEY_UNSET_FIELD]: true, placeholder: 'Xy12' }));
    const e = await getScriptKey({ env: fromSecret(a) }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SiteCredentialsError);
    expect(String((e as Error).message)).toContain(`aws secretsmanager put-secret-value --secret-id ${a}`);
  });

  it('fails clearly on a secret that does not exist', async () => {
    await expect(getScriptKey({ env: fromSecret(arn('missing')) })).rejects.toThrow();
  });

  it('uses SHOTGUN_SCRIPT_KEY for local runs, and names both variables when neither is set', async () => {
    expect(await getScriptKey({ env: { SHOTGUN_SCRIPT_KEY: ' local-key ' } })).toBe('local-key');
    await expect(getScriptKey({ env: {} })).rejects.toThrow(/SHOTGUN_SCRIPT_KEY_SECRET_ARN.*SHOTGUN_SCRIPT_KEY/);
  });

  it('builds the credentials, whose key never shows when logged or serialized', async () => {
    const a = arn('creds');
    secrets.set(a, 'super-secret-key');
    const c = await getSiteCredentials({ env: fromSecret(a) });
    expect(c).toBeInstanceOf(SiteCredentials);
    expect(c.siteUrl).toBe('https://studio.shotgrid.autodesk.com');
    expect(c.authParams()).toEqual({ script_name: 'fpt-cache-sync', script_key: 'super-secret-key' });
    for (const shown of [JSON.stringify(c), JSON.stringify({ nested: c }), inspect(c), String(c), `${c}`, Object.keys(c).join()]) {
      expect(shown).not.toContain('super-secret-key');
    }
    await expect(getSiteCredentials({ env: { SHOTGUN_SCRIPT_KEY: 'x', SHOTGUN_SCRIPT_NAME: 'n' } })).rejects.toThrow(/SHOTGUN_URL/);
  });
});
