// Each refusal of the admin commands: its exit status, a message that says what to do, and
// nothing signed (the ledger holds as many entries as before).
import { describe, it, expect, beforeAll } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyEntry } from '@keymesh/protocol';
import { testKey } from '@keymesh/testkit/site';
import { tempDir } from '@keymesh/testkit/temp-files';
import { dataPaths } from '../data-dir.js';
import { readKeyFile, writeKeyFile } from '../files.js';
import { initSiteIn, runCaptured, withLedger, type TrySite } from './run-captured.js';
import { ledgerTarget } from './target.js';
import { signAndSubmit } from './writer.js';

let s: TrySite;
let dir: string;
beforeAll(async () => {
  dir = tempDir('keymesh-refusals-');
  s = await initSiteIn(dir);
  for (const argv of [
    ['member', 'add', 'ada', '--name', 'Ada'],
    ['resource', 'add', 'laser', '--name', 'Laser', '--kind', 'machine'],
    ['resource', 'add', 'front', '--name', 'Front', '--kind', 'door'],
  ]) expect((await s.a(...argv)).code).toBe(0);
});

const ADA = testKey(850).publicKey;

describe('refusals sign nothing', () => {
  const cases: Array<[string, string[], number, string]> = [
    ['update with nothing to change', ['member', 'update', 'ada'], 2, 'nothing to change'],
    ['update of an unknown member', ['member', 'update', 'nobody', '--name', 'N'], 1, 'member add nobody'],
    ['withdrawing a key the member does not have', ['member', 'update', 'ada', '--withdraw-key', ADA], 2, 'no such key'],
    ['a key that is not a key', ['member', 'update', 'ada', '--add-key', 'xyz'], 2, '--add-key'],
    ['suspending an unknown member', ['member', 'suspend', 'nobody'], 1, 'no member "nobody"'],
    ['binding a card to an unknown member', ['card', 'bind', '04a22b1a', '--member', 'nobody'], 1, 'no member "nobody"'],
    ['a card number with no number', ['card', 'bind', '--member', 'ada'], 2, 'card number'],
    ['a card number and --ref', ['card', 'unbind', '04a22b1a', '--ref', 'ab'.repeat(16)], 2, 'not both'],
    ['a --ref that is not a reference', ['card', 'unbind', '--ref', '04a22b1a'], 2, '--ref'],
    ['unbinding a card never bound', ['card', 'unbind', '--ref', 'ab'.repeat(16)], 2, 'never bound'],
    ['a card key file that is missing', ['card', 'bind', '04a22b1a', '--member', 'ada', '--card-key', '/nonexistent/card.key'], 1, 'does not exist'],
    ['certifying an unknown member', ['cert', 'grant', 'nobody', 'laser'], 1, 'no member "nobody"'],
    ['a trainer scope of an unknown resource', ['trainer', 'add', 'ada', '--resource', 'nowhere'], 1, 'no such resource'],
    ['a trainer scope of a resource that requires nothing', ['trainer', 'add', 'ada', '--resource', 'front'], 2, 'requires no certification'],
    ['a trainer with no scope', ['trainer', 'add', 'ada'], 2, '--cert'],
    ['adding a resource twice', ['resource', 'add', 'laser', '--name', 'L', '--kind', 'machine'], 1, 'resource update laser'],
    ['updating an unknown resource', ['resource', 'update', 'nowhere', '--name', 'N'], 1, 'resource add nowhere'],
    ['a resource update with nothing to change', ['resource', 'update', 'laser'], 2, 'nothing to change'],
    ['--max-stale-hours out of range', ['resource', 'update', 'laser', '--max-stale-hours', '99999'], 2, '--max-stale-hours'],
    ['adding an admin twice', ['admin', 'add', 'KEY:daily'], 2, 'already an admin'],
    ['removing a key that is not an admin', ['admin', 'remove', ADA], 2, 'not an active admin'],
    ['removing below the quorum', ['admin', 'remove', 'KEY:daily', '--quorum', '2'], 2, 'quorum'],
    ['a --server that is not a URL', ['member', 'add', 'bob', '--name', 'B', '--server', 'not a url'], 2, '--server'],
    ['a server that does not answer', ['member', 'add', 'bob', '--name', 'B', '--server', 'http://127.0.0.1:9'], 1, 'did not answer'],
    ['a key file that does not exist', ['member', 'add', 'bob', '--name', 'B', '--key', '/nonexistent/admin.key'], 1, 'does not exist'],
    ['--json on a refusal', ['member', 'suspend', 'nobody', '--json'], 1, 'NOT_FOUND'],
  ];
  it.each(cases)('%s', async (_what, argv, code, says) => {
    const daily = readKeyFile(s.key).publicKey;
    const args = argv.map((x) => (x === 'KEY:daily' ? daily : x));
    const before = withLedger(s.data, (l) => l.count());
    // s.a appends the daily key; a case that names its own key runs without it.
    const r = args.includes('--key') ? await runCaptured([...args, '--data', s.data]) : await s.a(...args);
    expect(r.code).toBe(code);
    expect(r.err + r.out).toContain(says);
    expect(withLedger(s.data, (l) => l.count())).toBe(before);
  });
});

describe('proposal files', () => {
  it('a damaged, foreign or unapproved-by-an-admin proposal is refused', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"keymesh":"admins-proposal"');
    expect((await s.a('admin', 'approve', bad)).err).toContain('cannot be read as a proposal');
    writeFileSync(bad, ' '.repeat(300 * 1024));
    expect((await s.a('admin', 'approve', bad)).err).toContain('larger than 256 KiB');
    writeFileSync(bad, JSON.stringify({ keymesh: 'admins-proposal', v: 1, site: 'ab'.repeat(32), deps: [], admins: [{ key: ADA, until: null }], quorum: 1, approvals: [], summary: '' }));
    const foreign = await s.a('admin', 'approve', bad);
    expect(foreign.code).toBe(1);
    expect(foreign.err).toContain('another site');
    // A key that is no admin cannot approve (or propose).
    const other = join(dir, 'other.key');
    writeKeyFile(other, testKey(851), 'not an admin');
    const r = await runCaptured(['admin', 'add', ADA, '--data', s.data, '--key', other]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('not a current admin');
  });
});

describe('a hostile or broken target', () => {
  it('a head that does not verify is not built on: nothing is signed', async () => {
    const key = readKeyFile(s.key);
    const target = ledgerTarget(dataPaths(s.data).ledger, s.site);
    try {
      const real = await target.head(key.publicKey);
      const forged = JSON.parse(real!.line) as AnyEntry;
      (forged as { seq: number }).seq += 5; // a head claimed further along, not signed by the key
      target.head = async () => ({ ...real!, seq: forged.seq, line: JSON.stringify(forged) });
      let submitted = 0;
      const submit = target.submit;
      target.submit = async (line) => (submitted++, submit(line));
      await expect(signAndSubmit(target, key, s.site, 'member.put', { member: 'zz', name: 'Z', contact: '', status: 'active', validUntil: null, keys: [], trainerFor: [] }, ['member/zz']))
        .rejects.toMatchObject({ code: 'API_ERROR', message: expect.stringContaining('nothing was signed') });
      expect(submitted).toBe(0);
      target.head = async () => ({ ...real!, line: 'not json' });
      await expect(signAndSubmit(target, key, s.site, 'member.put', { member: 'zz', name: 'Z', contact: '', status: 'active', validUntil: null, keys: [], trainerFor: [] }, ['member/zz']))
        .rejects.toMatchObject({ code: 'API_ERROR' });
      expect(submitted).toBe(0);
    } finally {
      await target.close();
    }
  });
});
