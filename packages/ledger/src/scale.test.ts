// Speed at edge scale, as behaviour (issue 10, finding 14 and deliver 4; the timings are in
// bench/, ledger): a rule change rewrites only the materialised values it changed, the table
// still equals a full recompute after any mix of rule changes, and an open checks what a crash
// can damage without reading the whole file.
import { describe, it, expect, afterAll } from '@jest/globals';
import fc from 'fast-check';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PolicyState, canonicalString, encodeEntry, type AnyEntry } from '@keymesh/protocol';
import { TestSite, memberBody, resourceBody, testKey, type Writer, testCard } from '@keymesh/testkit/site';
import { Ledger } from './ledger.js';
import { tempLedger } from '@keymesh/testkit/temp-ledger';

const NOW = 1_700_000_000_000;
const opened: Ledger[] = [];
const track = (l: Ledger) => (opened.push(l), l);
afterAll(() => opened.forEach((l) => l.close()));

/**
 * Policy rows written, as SQLite sees them: triggers (made on a second connection, so the
 * ledger's code is not touched) log every insert, update and delete of the `policy` table.
 */
function policyWrites(path: string): { take(): string[]; close(): void } {
  const db = new Database(path);
  db.exec(`
    CREATE TABLE IF NOT EXISTS policy_writes (pkey TEXT NOT NULL);
    CREATE TRIGGER IF NOT EXISTS policy_ins AFTER INSERT ON policy BEGIN INSERT INTO policy_writes VALUES (NEW.pkey); END;
    CREATE TRIGGER IF NOT EXISTS policy_upd AFTER UPDATE ON policy BEGIN INSERT INTO policy_writes VALUES (NEW.pkey); END;
    CREATE TRIGGER IF NOT EXISTS policy_del AFTER DELETE ON policy BEGIN INSERT INTO policy_writes VALUES (OLD.pkey); END;`);
  return {
    take() {
      const rows = (db.prepare('SELECT pkey FROM policy_writes ORDER BY rowid').all() as Array<{ pkey: string }>).map((r) => r.pkey);
      db.prepare('DELETE FROM policy_writes').run();
      return rows;
    },
    close: () => db.close(),
  };
}

/** What the `policy` table must hold: every key's value and heads from a state built afresh from the stored entries. */
function recomputed(ledger: Ledger): Record<string, { value: unknown; heads: string[] }> {
  const fresh = new PolicyState(ledger.site, ledger.crypto);
  for (const json of ledger.iterateEncoded()) fresh.add(JSON.parse(json) as AnyEntry);
  const out: Record<string, { value: unknown; heads: string[] }> = {};
  for (const k of fresh.keys()) {
    const value = fresh.valueOf(k);
    if (value !== undefined) out[k] = { value: JSON.parse(canonicalString(value)), heads: fresh.headHashes(k) };
  }
  return out;
}

describe('materialising a rule change rewrites only what it changed (finding 14)', () => {
  it('a member.put of a member who trains nobody writes 1 policy row; a trainer\'s writes the trainer\'s certifications too', () => {
    const site = new TestSite({ now: () => NOW, admins: 2 });
    const admin = site.admins[0]!.key;
    const trainer = testKey(20);
    const panel = testKey(30);
    const ledger = track(tempLedger(site.site, { now: () => NOW }));
    ledger.ingest([encodeEntry(site.genesis)]);
    const members = 300;
    const trainerRecord = memberBody('t1', { keys: [{ key: trainer.publicKey, until: null }], trainerFor: [{ cert: 'laser', until: null }] });
    ledger.appendMany(admin, [
      { type: 'resource.put', body: resourceBody('laser', { requiredCerts: ['laser'] }) },
      { type: 'resource.put', body: resourceBody('cnc', { requiredCerts: ['cnc'] }) },
      { type: 'node.enrol', body: { node: panel.publicKey, name: 'laser panel', role: 'edge', resources: ['laser'] } },
      { type: 'member.put', body: trainerRecord },
      ...Array.from({ length: members }, (_, i) => [
        { type: 'member.put' as const, body: memberBody(`m${i}`) },
        { type: 'card.bind' as const, body: { card: testCard(`c${i}`), member: `m${i}` } },
        { type: 'cert.grant' as const, body: { member: `m${i}`, cert: 'cnc', grantedBy: null, note: '' } },
      ]).flat(),
    ]);
    // The trainer certifies 10 members with its own key, and 5 more at the laser's panel.
    ledger.appendMany(trainer, Array.from({ length: 10 }, (_, i) => ({ type: 'cert.grant', body: { member: `m${i}`, cert: 'laser', grantedBy: 't1', note: '' } })));
    ledger.appendMany(panel, Array.from({ length: 5 }, (_, i) => ({ type: 'cert.grant', body: { member: `m${10 + i}`, cert: 'laser', grantedBy: 't1', note: '' } })));
    expect(ledger.certifications('m0').map((c) => c.cert).sort()).toEqual(['cnc', 'laser']);
    expect(ledger.certifications('m12').map((c) => c.cert).sort()).toEqual(['cnc', 'laser']);

    const writes = policyWrites(ledger.path);
    try {
      ledger.append(admin, 'member.put', memberBody('m200', { status: 'suspended' }));
      expect(writes.take()).toEqual(['member/m200']);
      expect(ledger.member('m200')?.status).toBe('suspended');

      // A new contact for the trainer: the certifications it signed may depend on its record.
      ledger.append(admin, 'member.put', { ...trainerRecord, contact: 't1@example.org' });
      const trained = [...Array.from({ length: 15 }, (_, i) => `cert/m${i}/laser`)];
      expect(writes.take().sort()).toEqual(['member/t1', ...trained].sort());

      // The same through ingest, as rule changes arriving by sync from the second admin.
      const other = site.admins[1]!;
      expect(ledger.ingest([encodeEntry(other.write('member.put', memberBody('m201', { status: 'suspended' })))]).accepted).toBe(1);
      expect(writes.take()).toEqual(['member/m201']);
      expect(ledger.ingest([encodeEntry(other.write('member.put', { ...trainerRecord, name: 'Trainer One' }))]).accepted).toBe(1);
      expect(writes.take().sort()).toEqual(['member/t1', ...trained].sort());
    } finally {
      writes.close();
    }
    expect(ledger.materialised()).toEqual(recomputed(ledger));
  });
});

describe('the materialised table equals a full recompute', () => {
  const MEMBERS = ['m0', 'm1', 'm2', 'm3'];
  type Step = [number, number, number, number];

  /**
   * Plays `steps` against one ledger: four writers on replicas of their own (an admin A, the
   * trainer's key T, a laser panel N, member m0's key M) whose entries the ledger ingests one
   * by one, and a second admin L that appends through the ledger itself. After every step the
   * `policy` table must equal a state built afresh from the stored entries.
   */
  function play(steps: readonly Step[]): number {
    const site = new TestSite({ now: () => NOW, admins: 2 });
    const [A, L] = site.admins as [Writer, Writer];
    const T = site.writer(testKey(20));
    const N = site.writer(testKey(30));
    const M = site.writer(testKey(40));
    // In memory: 60 runs of a new file each spent most of their time creating files.
    const ledger = Ledger.open(':memory:', { site: site.site, now: () => NOW, durability: 'process' });
    try {
      const m0 = (status: 'active' | 'suspended' = 'active') => memberBody('m0', { status, keys: [{ key: M.id, until: null }] });
      A.write('resource.put', resourceBody('laser', { requiredCerts: ['laser'] }));
      A.write('resource.put', resourceBody('door', { kind: 'door' }));
      A.write('node.enrol', { node: N.id, name: 'laser panel', role: 'edge', resources: ['laser', 'door'] });
      A.write('member.put', memberBody('t1', { keys: [{ key: T.id, until: null }], trainerFor: [{ cert: 'laser', until: null }] }));
      A.write('member.put', m0());
      for (const m of MEMBERS.slice(1)) A.write('member.put', memberBody(m));
      MEMBERS.slice(0, 3).forEach((m, i) => A.write('card.bind', { card: testCard(`c${i}`), member: m }));
      expect(ledger.ingest(A.feed.map((e) => encodeEntry(e))).rejected).toEqual([]);
      for (const w of [T, N, M]) w.receive(A.feed);
      const writers = [A, T, N, M, L];
      const all = () => [...ledger.iterateEncoded()].map((j) => JSON.parse(j) as AnyEntry);
      let checks = 0;
      for (const [wi, kind, a, b] of steps) {
        const w = writers[wi % writers.length]!;
        const act = (type: string, body: unknown) => {
          if (w === L) ledger.append(L.key, type as never, body as never);
          else expect(ledger.ingest([encodeEntry(w.write(type as never, body as never))]).rejected).toEqual([]);
        };
        const member = MEMBERS[a % MEMBERS.length]!;
        const viaTrainer = w === T || w === N ? 't1' : null;
        switch (kind % 10) {
          case 0:
            act('member.put', member === 'm0' ? m0(b % 3 ? 'active' : 'suspended') : memberBody(member, { status: b % 3 ? 'active' : 'suspended', validUntil: b % 2 ? null : NOW + a }));
            break;
          case 1:
            act('member.put', memberBody('t1', { status: b % 5 ? 'active' : 'suspended', keys: [{ key: T.id, until: null }], trainerFor: [{ cert: 'laser', until: b % 2 ? null : { [T.id]: 1 + (a % 5) } }] }));
            break;
          case 2:
            act(b % 4 ? 'card.bind' : 'card.unbind', b % 4 ? { card: testCard(`c${a % 3}`), member: MEMBERS[b % MEMBERS.length]! } : { card: testCard(`c${a % 3}`), reason: 'lost' });
            break;
          case 3:
            if (b % 3) act('cert.grant', { member, cert: b % 2 ? 'laser' : 'cnc', grantedBy: viaTrainer, note: '' });
            else act('cert.revoke', { member, cert: 'laser', revokedBy: viaTrainer, reason: 'test' });
            break;
          case 4:
            act('resource.put', resourceBody('laser', { requiredCerts: [[], ['laser'], ['laser', 'cnc']][b % 3]! }));
            break;
          case 5:
            act(b % 2 ? 'node.retire' : 'node.enrol', b % 2 ? { node: N.id, lastSeq: a % 8, reason: 'test' } : { node: N.id, name: 'laser panel', role: 'edge', resources: a % 2 ? ['laser', 'door'] : ['door'] });
            break;
          case 6:
            act('resource.lockout', { resource: 'laser', state: (['now', 'when_idle', 'lifted'] as const)[b % 3], by: w === M || w === N ? 'm0' : null, reason: 'test' });
            break;
          case 7:
            act('admins.change', { admins: [{ key: A.id, until: null }, { key: L.id, until: b % 2 ? null : 1 + (a % 6) }], quorum: 1, approvals: [] });
            break;
          case 8:
            act('access.decision', { resource: a % 2 ? 'laser' : 'door', credential: { kind: 'card', card: testCard(`c${b % 3}`) }, allow: true, reason: 'ALLOWED', member, at: NOW + a });
            break;
          default:
            if (w !== L) w.receive(all());
        }
        expect(ledger.materialised()).toEqual(recomputed(ledger));
        checks++;
      }
      return checks;
    } finally {
      ledger.close();
    }
  }

  it('after any mix of rule changes, by append and by ingest (property, 100 runs)', () => {
    const step = fc.tuple(fc.nat(4), fc.nat(9), fc.nat(50), fc.nat(50)) as fc.Arbitrary<Step>;
    let checks = 0;
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 20 }), (steps) => {
      checks += play(steps);
    }), { numRuns: 100 });
    expect(checks).toBeGreaterThan(100);
  });
});

describe('an open checks what a crash can damage, not the whole file (deliver 4)', () => {
  /** A ledger with a door node's 1,500 access events, one of them marked so it can be found in the file's bytes. */
  function withEvents() {
    const site = new TestSite({ now: () => NOW });
    const admin = site.admins[0]!.key;
    const node = testKey(30);
    const ledger = tempLedger(site.site, { now: () => NOW });
    ledger.ingest([encodeEntry(site.genesis)]);
    ledger.appendMany(admin, [
      { type: 'resource.put', body: resourceBody('door', { kind: 'door' }) },
      { type: 'node.enrol', body: { node: node.publicKey, name: 'door', role: 'edge', resources: ['door'] } },
      { type: 'member.put', body: memberBody('ada') },
    ]);
    for (let i = 0; i < 1500; i++) {
      ledger.append(node, 'access.decision', { resource: 'door', credential: { kind: 'card', card: testCard(i === 700 ? 'marker0marker0marker' : `c${i}`) }, allow: true, reason: 'ALLOWED', member: 'ada', at: NOW + i });
    }
    return { site, admin, node, ledger };
  }

  it('the marks of what was found whole advance with the stored entries, so an open after a crash counts at most one batch', () => {
    const { ledger, node } = withEvents();
    const db = new Database(ledger.path, { readonly: true });
    try {
      const { seq } = db.prepare("SELECT c.seq FROM feeds_checked c JOIN feeds f ON f.id = c.feed WHERE f.author = ?").get(node.publicKey) as { seq: number };
      expect(seq).toBeGreaterThan(1500 - 256);
    } finally {
      db.close();
      ledger.close();
    }
  });

  it('a damaged page of old access events does not stop the open (the door keeps working); verify() reports it', () => {
    const { site, ledger } = withEvents();
    const { path } = ledger;
    ledger.close();
    const db = new Database(path);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const bytes = readFileSync(path);
    const at = bytes.indexOf(testCard('marker0marker0marker'));
    expect(at).toBeGreaterThan(0);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, Math.floor(at / 4096) * 4096);
    closeSync(fd);
    const l = track(Ledger.open(path, { site: site.site }));
    expect(l.member('ada')?.status).toBe('active');
    expect(l.verify()).toEqual(expect.arrayContaining([expect.objectContaining({ author: '(file)', reason: expect.stringMatching(/quick_check/) })]));
    l.close();
    // The operator's tool finds it too.
    const cli = spawnSync(process.execPath, [fileURLToPath(new URL('../bin/keymesh-ledger.js', import.meta.url)), 'verify', path], { encoding: 'utf8' });
    expect({ status: cli.status, stderr: cli.stderr }).toEqual({ status: 1, stderr: '' });
    expect(cli.stdout).toMatch(/\(file\) seq 0: SQLite quick_check/);
  });

  it('a head entry whose content does not match its stored hash is refused on open, naming the feed and what to run', () => {
    const { site, ledger, node } = withEvents();
    const { path } = ledger;
    ledger.close();
    const db = new Database(path);
    const changed = db.prepare(`UPDATE entries SET json = replace(json, '"allow":true', '"allow":false') WHERE id = (SELECT max(e.id) FROM entries e JOIN feeds f ON f.id = e.feed WHERE f.author = ?)`).run(node.publicKey);
    db.close();
    expect(changed.changes).toBe(1);
    expect(() => Ledger.open(path, { site: site.site })).toThrow(new RegExp(`feed ${node.publicKey.slice(0, 12)}… has a head entry \\(seq 1500\\) whose content does not match its hash.*keymesh-ledger verify`));
  });
});
