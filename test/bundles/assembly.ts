// The deployable assembly for the bundle test and the bundle bench: the stack synthesized offline with its esbuild bundles, as `cdk synth` writes cdk.out.
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { REPO_ROOT, parseConfig, type CacheConfigInput } from '../../infra/config.js';
import { FptCacheStack } from '../../infra/stack.js';
import type { Json } from './template.js';

process.env.CDK_HOME ??= join(REPO_ROOT, '.cdk');

export interface Assembly {
  dir: string;
  stack: FptCacheStack;
  template: Json;
  /** The template logical id of each function, by its short name (poller, consumer, api, ...). */
  functionIds: Record<string, string>;
  synthMs: number;
}

/** Synthesizes with bundling on (no Docker, no credentials, no network) into a fresh directory under .tmp/. */
export function synthAssembly(config: CacheConfigInput = {}): Assembly {
  const started = Date.now();
  mkdirSync(join(REPO_ROOT, '.tmp'), { recursive: true });
  const dir = mkdtempSync(join(REPO_ROOT, '.tmp', 'cdk.out-'));
  const app = new App({ outdir: dir });
  const stack = new FptCacheStack(app, 'FptCache', { config: parseConfig(config) });
  app.synth();
  const template = JSON.parse(readFileSync(join(dir, `${stack.artifactId}.template.json`), 'utf8')) as Json;
  const fns = [...stack.pipeline.functions, stack.api.handler, ...(stack.shadow ? [stack.shadow.verifier] : [])];
  const functionIds = Object.fromEntries(fns.map((f) => [f.name, Stack.of(f).getLogicalId(f.fn.node.defaultChild as never)]));
  return { dir, stack, template, functionIds, synthMs: Date.now() - started };
}
