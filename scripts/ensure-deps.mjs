#!/usr/bin/env node
// Installs what is missing before `npm test` / `npm run bench`, so a fresh clone needs no
// other command first. Uses only Node built-ins: nothing is installed yet when it runs.
//
// Native modules are checked by their build output, not by npm's word: npm 11 can skip
// dependency install scripts, which would leave better-sqlite3 without its binary.
import { execSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const marker = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');

/** Native builds that must exist after install: [package dir in node_modules, artifact]. */
const nativeArtifacts = [
  ['better-sqlite3', 'build/Release/better_sqlite3.node'],
  ['@keymesh/cdc-native', 'build/Release/keymesh_cdc.node'],
  ['epoll', 'build/Release/epoll.node'],
];

function mtime(p) {
  return existsSync(p) ? statSync(p).mtimeMs : 0;
}

function manifests() {
  const out = [join(root, 'package.json')];
  const pk = join(root, 'packages');
  if (existsSync(pk)) {
    for (const d of readdirSync(pk)) {
      const m = join(pk, d, 'package.json');
      if (existsSync(m)) out.push(m);
    }
  }
  return out;
}

function run(cmd) {
  console.log(`[ensure-deps] ${cmd}`);
  execSync(cmd, { cwd: root, stdio: 'inherit' });
}

const stale = !existsSync(marker) ||
  mtime(lock) > mtime(marker) ||
  manifests().some((m) => mtime(m) > mtime(marker));

// `npm install`, not `npm ci`: npm 11's lockfile can miss optional platform packages
// (@unrs/resolver-binding-*), which makes `npm ci` refuse a fresh clone.
if (stale) run('npm install --no-audit --no-fund');

for (const [pkg, artifact] of nativeArtifacts) {
  const dir = join(root, 'node_modules', pkg);
  if (existsSync(dir) && !existsSync(join(dir, artifact))) {
    run(`npm rebuild ${pkg} --foreground-scripts`);
    if (!existsSync(join(dir, artifact))) {
      console.error(`[ensure-deps] ${pkg} did not build ${artifact}. ` +
        'Check that python3, make and g++ are installed, then run `npm rebuild ' + pkg + '`.');
      process.exit(1);
    }
  }
}
