import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/keymesh-chunk.js', import.meta.url));
const fixture = fileURLToPath(new URL('../test/fixtures/SekienAkashita.jpg', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
const PARAMS = ['--min', '4096', '--avg', '16384', '--max', '65535', '--level', '2'];
const EXPECTED = '0 19186\n19186 19279\n38465 17354\n55819 16387\n72206 19940\n92146 17320\n';

describe('keymesh-chunk', () => {
  it.each(['native', 'ts'])('prints "offset length" per chunk (--impl %s)', (impl) => {
    const r = run(fixture, ...PARAMS, '--impl', impl);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(EXPECTED);
  });

  it('prints SHA-256 per chunk with --sha256', () => {
    const r = run(fixture, ...PARAMS, '--sha256');
    expect(r.stdout.split('\n')[0]).toMatch(/^0 19186 [0-9a-f]{64}$/);
  });

  it('has --help', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/usage: keymesh-chunk FILE/);
  });

  it.each([
    [[], /no FILE given/],
    [[fixture, '--min', 'abc'], /--min needs a whole number of bytes, got "abc"/],
    [[fixture, '--min', '10'], /min must be an integer from 64/],
    [[fixture, '--min', '8192', '--avg', '4096'], /min <= avg <= max/],
    [[fixture, '--level', '7'], /--level needs 0, 1, 2 or 3/],
    [[fixture, '--impl', 'rust'], /--impl needs "native" or "ts"/],
    [[fixture, '--seed', '-3'], /--seed needs an unsigned 64-bit integer/],
    [[fixture, '--frobnicate'], /unknown option "--frobnicate"/],
    [[fixture, fixture], /one FILE expected, got 2/],
  ])('rejects %j with a clear message and exit 2', (args, message) => {
    const r = run(...args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('exits 1 with a plain message for a missing file', () => {
    const r = run('/nonexistent/file.bin');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot read "\/nonexistent\/file.bin": no such file/);
  });
});
