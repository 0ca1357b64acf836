import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkImports, checkRepository, LAYERS, LEAVES, sourceFiles, specifiers } from './layers.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('the package layout of shared/', () => {
  it('breaks no import rule anywhere in the repository', () => {
    expect(checkRepository(ROOT)).toEqual([]);
  });

  it('holds only the package folders (each with an index.ts naming what it owns) and the leaves', () => {
    const entries = readdirSync(join(ROOT, 'shared'));
    const folders = entries.filter((e) => statSync(join(ROOT, 'shared', e)).isDirectory());
    expect(folders.sort()).toEqual([...LAYERS].sort());
    expect(entries.filter((e) => !folders.includes(e)).sort()).toEqual([...LEAVES].sort());
    for (const p of LAYERS) expect(readFileSync(join(ROOT, 'shared', p, 'index.ts'), 'utf8')).toMatch(/^\/\/ shared\/\w+: .+\n\/\/ May import: /);
  });

  it('keeps every source file under 400 lines (seed data and generated files aside)', () => {
    const long = sourceFiles(ROOT)
      .filter((f) => !f.startsWith('local/sim/seed'))
      .map((f) => ({ f, lines: readFileSync(join(ROOT, f), 'utf8').split('\n').length }))
      .filter((x) => x.lines > 400);
    expect(long).toEqual([]);
  });
});

describe('the import checker', () => {
  it('finds static, type, re-export, dynamic and side-effect imports, not those in comments', () => {
    const src = [
      "import { a } from './a.js';",
      "import type { B } from '../b/index.js';",
      "export { c } from './c.js';",
      "const d = await import('./d.js');",
      "import './e.js';",
      "// import { x } from './x.js';",
      "/* import y from './y.js' */",
      'import {\n  f,\n  g,\n} from "./f.js";',
    ].join('\n');
    expect(specifiers(src)).toEqual(['./a.js', '../b/index.js', './c.js', './d.js', './e.js', './f.js']);
  });

  it('refuses an import against the direction, into a package file, from the domain into a handler, or of Lambda types in the domain', () => {
    expect(checkImports('shared/store/readiness.ts', "import { CachedReads } from '../reads/index.js';")[0].why).toMatch(/may not import shared\/reads/);
    expect(checkImports('shared/reads/x.ts', "import { y } from '../reads/index.js';")).toEqual([]);
    expect(checkImports('shared/query/planner.ts', "import { EntityStore } from '../store/entity-store.js';")[0].why).toMatch(/through its index\.ts/);
    expect(checkImports('functions/api/app.ts', "import { EntityStore } from '../../shared/store/entity-store.js';")[0].why).toMatch(/through its index\.ts/);
    expect(checkImports('shared/sync/poller.ts', "import { x } from '../../functions/poller/app.js';")[0].why).toMatch(/shared\/ may not import functions\//);
    expect(checkImports('shared/sync/poller.ts', "import type { Context } from 'aws-lambda';")[0].why).toMatch(/must not depend on aws-lambda/);
    expect(checkImports('shared/config.ts', "import { x } from './site/index.js';")[0].why).toMatch(/leaves/);
    expect(checkImports('functions/api/app.ts', "import { x } from '../../local/stack.js';")[0].why).toMatch(/functions\/ may not import local\//);
    expect(checkImports('shared/sync/poller.ts', "import { x } from '../store/index.js';\nimport { c } from '../config.js';")).toEqual([]);
  });
});
