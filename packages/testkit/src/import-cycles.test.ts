/**
 * No package's source imports itself round in a circle. Only imports that exist at run time
 * count: `import type` is erased, so a cycle through it orders nothing. (An inline
 * `import { type X }` is kept as an import under verbatimModuleSyntax, so it counts.)
 * Cycles between packages cannot form: project references and dependencies point one way.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import madge from 'madge';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const packages = readdirSync(join(root, 'packages'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

async function graph(dir: string) {
  return madge(dir, {
    fileExtensions: ['ts'],
    tsConfig: join(root, 'tsconfig.base.json'),
    // Other packages resolve to their compiled declarations: not followed.
    excludeRegExp: [/(^|\/)dist\//, /node_modules/],
    detectiveOptions: { ts: { skipTypeImports: true } },
  });
}

describe('import cycles', () => {
  it('are found in a two-file cycle written the way the packages import (".js" naming a ".ts" file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keymesh-cycles-'));
    try {
      writeFileSync(join(dir, 'a.ts'), "import { b } from './b.js';\nexport const a = () => b;\n");
      writeFileSync(join(dir, 'b.ts'), "import { a } from './a.js';\nimport type { C } from './c.js';\nexport const b = (c: C) => [a, c];\n");
      writeFileSync(join(dir, 'c.ts'), "import { b } from './b.js';\nexport type C = typeof b;\n");
      const g = await graph(dir);
      // a <-> b at run time; b -> c is type-only, so b -> c -> b is not a cycle.
      expect(g.circular()).toEqual([['a.ts', 'b.ts']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(packages)('none in packages/%s/src', async (pkg) => {
    const g = await graph(join(root, 'packages', pkg, 'src'));
    expect(Object.keys(g.obj()).length).toBeGreaterThan(3);
    // An import madge could not resolve is an edge it cannot see.
    expect(g.warnings().skipped.filter((s) => s.startsWith('.'))).toEqual([]);
    expect(g.circular()).toEqual([]);
  });
});
