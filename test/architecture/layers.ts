// The package layering of shared/ (docs/architecture.md "Packages"): which package may import which, and the import checker the test runs.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** shared/ packages, lowest first: a package imports only packages before it (and shared/config.ts, shared/version.ts). */
export const LAYERS = ['site', 'schema', 'semantics', 'store', 'query', 'shadow', 'sync', 'reads'] as const;
/** Files directly under shared/ that every package may import; they import no package. */
export const LEAVES = ['clock.ts', 'config.ts', 'version.ts'];
/** Top-level folders and what they may import (shared/ is the domain: it knows nothing of Lambda, the local runtime or CDK). */
export const FOLDERS: Record<string, readonly string[]> = {
  shared: ['shared'],
  functions: ['functions', 'shared'],
  infra: ['infra', 'shared'],
  schema: ['schema'],
  local: ['local', 'functions', 'shared', 'infra'],
  bench: ['bench', 'local', 'functions', 'shared', 'test'],
  test: ['test', 'local', 'functions', 'shared', 'infra', 'bench'],
};
/** Packages shared/ must not use: the domain is not a Lambda handler. */
const FORBIDDEN_IN_SHARED = ['aws-lambda', '@middy/core', 'aws-cdk-lib', 'constructs'];

export interface Violation {
  file: string;
  spec: string;
  why: string;
}

const SPEC_RE =
  /(?:^|[^\w.])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[^\w.])import\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[^\w.])import\s+['"]([^'"]+)['"]/gm;

/** Every module specifier a TypeScript source names (static imports, re-exports, dynamic imports, side-effect imports). */
export function specifiers(source: string): string[] {
  const noComments = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  return [...noComments.matchAll(SPEC_RE)].map((m) => m[1] ?? m[2] ?? m[3]);
}

/** Where a repository-relative path sits: its top folder and, under shared/, its package (undefined for the leaves). */
function place(rel: string): { top: string; pkg?: string; inPkg?: string } {
  const parts = rel.split('/');
  if (parts[0] !== 'shared' || parts.length < 3) return { top: parts[0] };
  return { top: 'shared', pkg: parts[1], inPkg: parts.slice(2).join('/') };
}

/** The violations of one file's imports (`rel`: its path from the repository root, `/`-separated). */
export function checkImports(rel: string, source: string): Violation[] {
  const out: Violation[] = [];
  const from = place(rel);
  for (const spec of specifiers(source)) {
    if (!spec.startsWith('.')) {
      if (from.top === 'shared' && FORBIDDEN_IN_SHARED.some((p) => spec === p || spec.startsWith(`${p}/`)))
        out.push({ file: rel, spec, why: `shared/ must not depend on ${spec}` });
      continue;
    }
    const target = relative('.', join(dirname(rel), spec))
      .split(sep)
      .join('/');
    if (target.startsWith('..')) {
      out.push({ file: rel, spec, why: 'imports outside the repository' });
      continue;
    }
    const to = place(target);
    const allowed = FOLDERS[from.top];
    if (!target.includes('/')) continue; // a root file (package.json)
    if (allowed && !allowed.includes(to.top)) {
      out.push({ file: rel, spec, why: `${from.top}/ may not import ${to.top}/` });
      continue;
    }
    if (to.top !== 'shared') continue;
    if (!to.pkg) {
      if (from.top === 'shared' && !from.pkg && rel !== target && !LEAVES.includes(rel.slice('shared/'.length)))
        out.push({ file: rel, spec, why: 'only package folders and the leaves live directly under shared/' });
      if (from.pkg === undefined && from.top === 'shared') out.push({ file: rel, spec, why: 'the leaves (config.ts, version.ts) import no package' });
      continue;
    }
    if (!(LAYERS as readonly string[]).includes(to.pkg)) {
      out.push({ file: rel, spec, why: `shared/${to.pkg} is not a known package (LAYERS)` });
      continue;
    }
    if (from.pkg === to.pkg) continue;
    if (to.inPkg !== 'index.ts' && to.inPkg !== 'index.js') out.push({ file: rel, spec, why: `import shared/${to.pkg} through its index.ts, not ${to.inPkg}` });
    if (from.top === 'shared') {
      if (!from.pkg) {
        out.push({ file: rel, spec, why: 'the leaves (config.ts, version.ts) import no package' });
        continue;
      }
      const a = LAYERS.indexOf(from.pkg as (typeof LAYERS)[number]);
      const b = LAYERS.indexOf(to.pkg as (typeof LAYERS)[number]);
      if (a < 0) out.push({ file: rel, spec, why: `shared/${from.pkg} is not a known package (LAYERS)` });
      else if (b >= a) out.push({ file: rel, spec, why: `shared/${from.pkg} may not import shared/${to.pkg} (the direction is ${LAYERS.join(' < ')})` });
    }
  }
  return out;
}

/** Every .ts file of the repository (outside node_modules, cdk.out and data folders), repository-relative. */
export function sourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      if (e === 'node_modules' || e.startsWith('.') || e === 'cdk.out' || e === 'coverage') continue;
      if (relative(root, join(dir, e)).split(sep).join('/') === 'test/architecture') continue; // its own examples of wrong imports
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) out.push(relative(root, p).split(sep).join('/'));
    }
  };
  walk(resolve(root));
  return out.sort();
}

/** The violations of the whole repository. */
export function checkRepository(root: string): Violation[] {
  return sourceFiles(root).flatMap((rel) => checkImports(rel, readFileSync(join(root, rel), 'utf8')));
}
