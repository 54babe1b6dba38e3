// hardware/scripts/keymesh-edge-upgrade, run for real (bash, tar, flock) against a temporary
// root and data folder, with a stand-in `systemctl` on PATH that plays a unit whose release
// either stays up or keeps crashing (its main pid changes on every look).
import { describe, it, expect } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@keymesh/testkit/temp-files';

const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../hardware/scripts/keymesh-edge-upgrade');

const FAKE_SYSTEMCTL = `#!/bin/bash
# A unit whose release says "crash" in its bin file never keeps a main pid.
echo "$*" >> "$STATE/calls"
bin="$ROOT/current/packages/edge-agent/bin/keymesh-edge.js"
pid=$(cat "$STATE/pid" 2>/dev/null || echo 100)
case "$1" in
  restart) echo $((pid + 1)) > "$STATE/pid" ;;
  stop) echo 0 > "$STATE/pid" ;;
  is-active) exit 0 ;;
  show)
    if grep -q crash "$bin" 2>/dev/null; then echo $((pid + 1)) > "$STATE/pid"; echo $((pid + 1)); else echo "$pid"; fi ;;
esac
`;

function world() {
  const dir = tempDir('keymesh-upgrade-');
  const root = join(dir, 'opt');
  const data = join(dir, 'data');
  const state = join(dir, 'state');
  const bin = join(dir, 'bin');
  for (const d of [root, data, state, bin]) mkdirSync(d, { recursive: true });
  writeFileSync(join(bin, 'systemctl'), FAKE_SYSTEMCTL);
  chmodSync(join(bin, 'systemctl'), 0o755);
  /** A bundle as the agent leaves it: the tar, then its manifest id file. */
  const bundle = (version: string, agent: string | null) => {
    const tree = join(dir, 'trees', version);
    mkdirSync(join(tree, 'packages', 'edge-agent', 'bin'), { recursive: true });
    if (agent !== null) writeFileSync(join(tree, 'packages', 'edge-agent', 'bin', 'keymesh-edge.js'), agent);
    else writeFileSync(join(tree, 'README'), 'not an edge release');
    const out = join(data, 'bundles', version);
    mkdirSync(out, { recursive: true });
    const t = spawnSync('tar', ['-cf', join(out, 'bundle'), '-C', tree, '.']);
    expect(t.status).toBe(0);
    writeFileSync(join(out, 'manifest'), `${'ab'.repeat(32)}\n`);
  };
  const run = (...args: string[]) => {
    const r = spawnSync('bash', [SCRIPT, ...args, '--data', data, '--root', root, '--wait', '1'], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, STATE: state, ROOT: root }, encoding: 'utf8',
    });
    return { status: r.status, out: r.stdout + r.stderr };
  };
  const current = () => readlinkSync(join(root, 'current'));
  const restarts = () => readFileSync(join(state, 'calls'), 'utf8').split('\n').filter((l) => l.startsWith('restart')).length;
  return { root, bundle, run, current, restarts };
}

describe('keymesh-edge-upgrade', () => {
  it('switches current to a healthy release, and back to the previous one when the new one does not stay up', () => {
    const w = world();
    w.bundle('1.0.0', 'ok 1');
    w.bundle('1.1.0', 'ok 2');
    w.bundle('2.0.0', 'crash');
    expect(w.run('1.0.0')).toMatchObject({ status: 0 });
    expect(w.current()).toBe('releases/1.0.0');
    expect(readFileSync(join(w.root, 'current', 'packages', 'edge-agent', 'bin', 'keymesh-edge.js'), 'utf8')).toBe('ok 1');
    expect(w.run('1.1.0')).toMatchObject({ status: 0 });
    expect(w.current()).toBe('releases/1.1.0');
    expect(readFileSync(join(w.root, 'previous'), 'utf8').trim()).toBe('releases/1.0.0');

    const r = w.run('2.0.0');
    expect(r.status).toBe(1);
    expect(r.out).toContain('rolled back to releases/1.1.0');
    expect(w.current()).toBe('releases/1.1.0');
    expect(w.restarts()).toBe(4); // 1.0.0, 1.1.0, 2.0.0, and the rollback
    expect(w.run('1.1.0')).toMatchObject({ status: 0, out: expect.stringContaining('already the running release') });
  });

  it('refuses a missing bundle, a name that is not a version, and a tar that is not an edge release, changing nothing', () => {
    const w = world();
    w.bundle('1.0.0', 'ok');
    w.bundle('3.0.0', null);
    expect(w.run('1.0.0')).toMatchObject({ status: 0 });
    expect(w.run('9.9.9')).toMatchObject({ status: 1, out: expect.stringContaining('no verified bundle 9.9.9') });
    expect(w.run('../1.0.0')).toMatchObject({ status: 1, out: expect.stringContaining('is not a version') });
    expect(w.run('3.0.0')).toMatchObject({ status: 1, out: expect.stringContaining('not an edge release') });
    expect(existsSync(join(w.root, 'releases', '3.0.0'))).toBe(false);
    expect(w.current()).toBe('releases/1.0.0');
    expect(w.restarts()).toBe(1);
  });
});
