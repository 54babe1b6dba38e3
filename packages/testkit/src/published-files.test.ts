/**
 * What each shipped package would publish (`npm pack --dry-run`) holds no test and no test
 * helper: tests and helpers live in @keymesh/testkit, and `files` keeps compiled tests out.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** A file name that marks a test or a test helper. */
export const TEST_FILE = /(^|\/)([^/]*\.test\.[^/]*|testing[^/]*|test-support[^/]*|test-feeds[^/]*|crash-child[^/]*)$/;

/** An import of the test kit in compiled code: `from '…'`, `import '…'`, `import('…')`, `require('…')`. */
const IMPORTS_TESTKIT = /(\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]@keymesh\/testkit(\/[^'"]*)?['"]/;

const shipped = readdirSync(join(root, 'packages'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => join(root, 'packages', d.name))
  .filter((dir) => {
    try {
      return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).private !== true;
    } catch {
      return false;
    }
  });

function packed(dir: string): string[] {
  const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
}

describe('published files', () => {
  it('finds the shipped packages', () => {
    expect(shipped.map((d) => d.split(/[\\/]/).pop()).sort()).toEqual(expect.arrayContaining(['cdc-native', 'ledger', 'protocol']));
  });

  it('tells test files and helpers from the rest', () => {
    for (const f of ['dist/a.test.js', 'dist/x/b.test.d.ts', 'dist/testing.js', 'dist/blobs/testing.d.ts', 'dist/test-support.js', 'dist/test-feeds.js.map', 'dist/crash-child.js']) {
      expect(f).toMatch(TEST_FILE);
    }
    for (const f of ['dist/index.js', 'dist/sync/engine.js', 'dist/attest.js', 'bin/keymesh-ledger.js', 'dist/contest.js']) {
      expect(f).not.toMatch(TEST_FILE);
    }
  });

  it('tells an import of the test kit from a mention', () => {
    for (const code of ["import { a } from '@keymesh/testkit';", 'export * from "@keymesh/testkit/site";', "await import('@keymesh/testkit/bytes')", "import '@keymesh/testkit';", "require('@keymesh/testkit')"]) {
      expect(code).toMatch(IMPORTS_TESTKIT);
    }
    expect(' * tests use the in-memory bus of `@keymesh/testkit`').not.toMatch(IMPORTS_TESTKIT);
  });

  it.each(shipped.map((d) => [d.split(/[\\/]/).pop()!, d]))('%s ships its code and no test or test helper', (_name, dir) => {
    const files = packed(dir);
    expect(files).toContain('dist/index.js');
    expect(files.filter((f) => TEST_FILE.test(f))).toEqual([]);
    // Nor does anything it ships import the test kit (a comment may name it).
    const loadsTestkit = files.filter((f) => /\.(js|d\.ts)$/.test(f) && IMPORTS_TESTKIT.test(readFileSync(join(dir, f), 'utf8')));
    expect(loadsTestkit).toEqual([]);
  });

  it.each(shipped.map((d) => [d.split(/[\\/]/).pop()!, d]))('%s does not depend on the test kit', (_name, dir) => {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'devDependencies']) {
      expect(Object.keys(manifest[field] ?? {})).not.toContain('@keymesh/testkit');
    }
  });
});
