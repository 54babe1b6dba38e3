// Only what is signed changes what a node believes (DESIGN §3, Evidence; issue 10, findings 1, 3
// and 13): unsigned claims and forged entries never block an append; held entries are verified,
// deduplicated and bounded; keys without authority never become feeds; a re-encoded copy never
// makes ingest throw; the quarantine is deduplicated and bounded.
import { describe, it, expect, afterAll } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { encodeEntry, keyPairFromSeed, signEntry, type BodyOf, type KeyPair, type SyncMessage } from '@keymesh/protocol';
import { TestSite, testKey, testCard } from '@keymesh/testkit/site';
import { Ledger } from './ledger.js';
import { SyncEngine } from './sync/engine.js';
import { tempLedger } from '@keymesh/testkit/temp-ledger';
import { HELD_AUTHORS, PENDING_PER_AUTHOR } from './pending.js';
import { QUARANTINE_PER_AUTHOR, QUARANTINE_TOTAL } from './quarantine.js';

const NOW = 1_700_000_000_000;
const site = new TestSite({ now: () => NOW });
const admin = site.admins[0]!;
const node = testKey(30); // the door's node: enrolled by the admin
const opened: Ledger[] = [];
const track = (l: Ledger) => (opened.push(l), l);
afterAll(() => opened.forEach((l) => l.close()));

const decision = (i: number): BodyOf<'access.decision'> => ({ resource: 'door', credential: { kind: 'card', card: testCard(`c${i}`) }, allow: true, reason: 'ALLOWED', member: null, at: NOW + i });
const ZERO_SIG = '0'.repeat(128);
const withSig = (line: string, sig: string) => line.replace(/"sig":"[0-9a-f]{128}"/, `"sig":"${sig}"`);

/** The admin's feed: genesis, the door, the node's enrolment (and `extra` member.puts). */
function adminFeed(extra = 0): string[] {
  const l = track(tempLedger(site.site, { now: () => NOW }));
  l.ingest([encodeEntry(site.genesis)]);
  l.append(admin.key, 'resource.put', { resource: 'door', name: 'door', kind: 'door', requiredCerts: [], schedule: null, unlockSeconds: 5, idleTimeoutSeconds: null, maxStaleHours: null, risk: 'normal' });
  l.append(admin.key, 'node.enrol', { node: node.publicKey, name: 'door-pi', role: 'edge', resources: ['door'] });
  for (let i = 0; i < extra; i++) l.append(admin.key, 'member.put', { member: `m${i}`, name: `m${i}`, contact: '', status: 'active', validUntil: null, keys: [], trainerFor: [] });
  return [...l.iterateEncoded()];
}
const ADMIN = adminFeed(3); // 6 entries: genesis, door, enrolment, m0..m2

/** A replica that trusts the node (admin entries 1..3). */
function replica(): Ledger {
  const l = track(tempLedger(site.site, { now: () => NOW }));
  expect(l.ingest(ADMIN.slice(0, 3))).toMatchObject({ accepted: 3, rejected: [] });
  return l;
}

/** `n` signed access decisions of `key`'s feed from seq `from` (prev given), stamped from `wall`, as canonical lines. */
function chain(key: KeyPair, n: number, from = 1, prev: string | null = null, variant = '', wall = NOW): { lines: string[]; hashes: string[] } {
  const lines: string[] = [];
  const hashes: string[] = [];
  for (let seq = from; seq < from + n; seq++) {
    const { hash, wire } = signEntry(key, { site: site.site, seq, prev, hlc: { wall: wall + seq, logical: 0 }, type: 'access.decision', deps: [], body: { ...decision(seq), member: variant ? `twin${variant}` : null } });
    lines.push(wire);
    hashes.push(hash);
    prev = hash;
  }
  return { lines, hashes };
}
const NODE = chain(node, 8);

const rows = (l: Ledger, sql: string, ...args: unknown[]): number => {
  const db = new Database(l.path, { readonly: true });
  try {
    return (db.prepare(sql).get(...args) as { n: number }).n;
  } finally {
    db.close();
  }
};
/** Sync node ids are public keys (64 hex). */
const peer = (i: number) => i.toString(16).padStart(64, 'c');
const LIAR = peer(0);
const PEER = peer(1);
const reopen = (l: Ledger): Ledger => (l.close(), track(Ledger.open(l.path, { site: site.site, now: () => NOW })));

describe('finding 1: an unsigned claim never blocks an append', () => {
  it("a have claiming seq 999999 of the node's own feed: appends go on (after reopening too), and a later truthful have replaces the claim", () => {
    let l = replica();
    l.append(node, 'access.decision', decision(1));
    const engine = new SyncEngine(l, 'door-pi', () => {});
    engine.receive(LIAR, { kind: 'have', node: LIAR, heads: { [node.publicKey]: 999_999 } });
    expect(l.ownFeedBehind(node.publicKey)).toBeNull();
    expect(l.append(node, 'access.decision', decision(2)).entry.seq).toBe(2);
    expect(l.syncLag()).toEqual({ [LIAR]: 999_999 - 2 });
    engine.receive(LIAR, { kind: 'have', node: LIAR, heads: { [node.publicKey]: 2 } });
    expect(l.syncLag()).toEqual({ [LIAR]: 0 }); // the latest claim, not the highest
    l = reopen(l);
    expect(l.append(node, 'access.decision', decision(3)).entry.seq).toBe(3);
  });

  it('an entry of its own key with a zero signature at seq 1000 is refused, not parked, and blocks nothing', () => {
    let l = replica();
    l.append(node, 'access.decision', decision(1));
    const forged = withSig(chain(node, 1, 1000, 'ab'.repeat(32)).lines[0]!, ZERO_SIG);
    const r = l.ingest([forged]);
    expect(r).toMatchObject({ accepted: 0, waiting: 0, rejected: [{ code: 'BAD_SIGNATURE', seq: 1000 }] });
    expect(l.pendingStats().entries).toBe(0);
    expect(l.append(node, 'access.decision', decision(2)).entry.seq).toBe(2);
    l = reopen(l);
    expect(l.append(node, 'access.decision', decision(3)).entry.seq).toBe(3);
  });

  it('a signed entry of its own key ahead of its head does block, and the error carries what was proven', () => {
    const l = replica();
    l.ingest(NODE.lines.slice(0, 2));
    expect(l.ingest([NODE.lines[4]!])).toMatchObject({ waiting: 1, rejected: [] });
    expect(() => l.append(node, 'access.decision', decision(99))).toThrow(expect.objectContaining({ code: 'SELF_FEED_BEHIND', details: { author: node.publicKey, local: 2, remote: 5 } }));
    l.ingest(NODE.lines.slice(2, 4));
    expect(l.append(node, 'access.decision', decision(99)).entry.seq).toBe(6);
  });

  it('a flood of distinct forged entries of its own key and a have naming 100,000 fake authors change nothing, and stay small', () => {
    let l = replica();
    l.append(node, 'access.decision', decision(1));
    const template = chain(node, 1, 2, 'ab'.repeat(32)).lines[0]!;
    const flood = Array.from({ length: 3000 }, (_, i) => withSig(template.replace('"seq":2,', `"seq":${i + 2},`), ZERO_SIG));
    const r = l.ingest(flood);
    expect(r.waiting).toBe(0);
    expect(r.rejected).toHaveLength(3000);
    expect(rows(l, 'SELECT count(*) AS n FROM quarantine WHERE author = ?', node.publicKey)).toBeLessThanOrEqual(QUARANTINE_PER_AUTHOR);
    const heads: Record<string, number> = {};
    for (let i = 0; i < 100_000; i++) heads[i.toString(16).padStart(64, '0')] = 1 + i;
    heads[node.publicKey] = 1e9;
    const engine = new SyncEngine(l, 'door-pi', () => {});
    engine.receive(LIAR, { kind: 'have', node: LIAR, heads });
    l.noteRemoteHeads(LIAR, heads); // whatever the message schema allows
    for (let i = 0; i < 300; i++) engine.receive(peer(10 + i), { kind: 'have', node: peer(10 + i), heads: { [node.publicKey]: 1e9 } });
    expect(rows(l, 'SELECT count(*) AS n FROM peers')).toBeLessThanOrEqual(256 * 2 + 300);
    expect(rows(l, 'SELECT count(DISTINCT node) AS n FROM peers')).toBeLessThanOrEqual(256);
    expect(l.append(node, 'access.decision', decision(2)).entry.seq).toBe(2);
    l = reopen(l);
    expect(l.append(node, 'access.decision', decision(3)).entry.seq).toBe(3);
  });
});

describe('pending: verified, deduplicated, bounded', () => {
  it(`20,000 signed entries ahead of a gap: at most ${PENDING_PER_AUTHOR} wait (the lowest seqs), the rest are dropped and counted; all apply once the gap closes`, () => {
    const l = replica();
    // Seqs 1..3,000 signed; past the bound nothing is checked before an entry is dropped, so
    // seqs 3,001..20,001 are re-numbered copies (signing them all would double the test's time).
    const { lines } = chain(node, 3000);
    for (let seq = 3001; seq <= 20_001; seq++) lines.push(lines[2999]!.replace('"seq":3000,', `"seq":${seq},`));
    const r = l.ingest(lines.slice(1));
    expect(r).toMatchObject({ accepted: 0, waiting: PENDING_PER_AUTHOR, dropped: 20_000 - PENDING_PER_AUTHOR, rejected: [] });
    expect(l.pendingStats().entries).toBe(PENDING_PER_AUTHOR);
    expect(rows(l, 'SELECT max(seq) AS n FROM pending')).toBe(PENDING_PER_AUTHOR + 1);
    expect(l.ingest([lines[0]!])).toMatchObject({ accepted: 1 + PENDING_PER_AUTHOR });
    expect(l.heads()[node.publicKey]).toBe(1 + PENDING_PER_AUTHOR);
    expect(l.ingest(lines.slice(1 + PENDING_PER_AUTHOR, 3000), { verify: 'batch' })).toMatchObject({ accepted: 3000 - 1 - PENDING_PER_AUTHOR, waiting: 0 });
    expect(l.heads()[node.publicKey]).toBe(3000);
    expect(l.pendingStats().entries).toBe(0);
  });

  it('the same entry delivered again is held once; a fork pair ahead of a gap is held (a third variant is recorded as proof, not held) and proven when the gap closes', () => {
    const l = replica();
    expect(l.ingest([NODE.lines[3]!, NODE.lines[3]!])).toMatchObject({ waiting: 1, duplicates: 1 });
    expect(l.ingest([NODE.lines[3]!])).toMatchObject({ waiting: 0 });
    // Two other signed entries for seq 3 on the same seq 2: a fork (one key used in two places).
    const twinA = chain(node, 1, 3, NODE.hashes[1]!, '-a').lines[0]!;
    const twinB = chain(node, 1, 3, NODE.hashes[1]!, '-b').lines[0]!;
    // Two are held; the third is not, but it proves the fork at once (as on a replica that holds all three).
    expect(l.ingest([NODE.lines[2]!, twinA, twinB])).toMatchObject({ waiting: 2, dropped: 0, forks: [{ author: node.publicKey, seq: 3 }] });
    expect(l.pendingStats().entries).toBe(3);
    const r = l.ingest(NODE.lines.slice(0, 2));
    expect(r.forks).toEqual([{ author: node.publicKey, seq: 3 }]);
    expect(l.heads()[node.publicKey]).toBeGreaterThanOrEqual(3); // either entry of the fork may be the feed's
    expect(() => l.append(node, 'access.decision', decision(9))).toThrow(expect.objectContaining({ code: 'SELF_FORK' }));
  });
});

describe('keys without authority are held, not stored as feeds', () => {
  it("a node's entries before its enrolment wait outside the feeds, and apply when the enrolment arrives (by ingest, by append, in the same batch)", () => {
    const byIngest = track(tempLedger(site.site, { now: () => NOW }));
    byIngest.ingest(ADMIN.slice(0, 2));
    expect(byIngest.ingest(NODE.lines.slice(0, 3))).toMatchObject({ accepted: 0, waiting: 3 });
    expect(byIngest.heads()[node.publicKey]).toBeUndefined();
    expect(byIngest.pendingStats()).toEqual({ entries: 3, unauthorisedAuthors: 1 });
    const reopened = reopen(byIngest); // held entries survive a restart
    expect(reopened.ingest([ADMIN[2]!])).toMatchObject({ accepted: 4 });
    expect(reopened.heads()[node.publicKey]).toBe(3);
    expect(reopened.accessLog({ resource: 'door' }).rows).toHaveLength(3);

    const byAppend = track(tempLedger(site.site, { now: () => NOW }));
    byAppend.ingest([ADMIN[0]!]);
    byAppend.ingest(NODE.lines.slice(0, 2));
    byAppend.append(admin.key, 'node.enrol', { node: node.publicKey, name: 'door-pi', role: 'edge', resources: ['door'] });
    expect(byAppend.heads()[node.publicKey]).toBe(2);
    expect(byAppend.pendingStats().entries).toBe(0);

    const oneBatch = track(tempLedger(site.site, { now: () => NOW }));
    expect(oneBatch.ingest([...NODE.lines, ...ADMIN])).toMatchObject({ accepted: NODE.lines.length + ADMIN.length, waiting: 0, rejected: [] });
  });

  it('100,001 throwaway keys, one entry each: no feeds, a small file and a small have', () => {
    const l = replica();
    // 1,200 genuinely signed by keys of their own; past HELD_AUTHORS keys nothing is checked
    // before an entry is dropped, so the other 98,801 are copies under other keys (making the
    // keys and signing would take ~14 s).
    const real = Array.from({ length: HELD_AUTHORS + 200 }, (_, i) => {
      const seed = new Uint8Array(32);
      new DataView(seed.buffer).setUint32(0, 0x7000_0000 + i);
      return keyPairFromSeed(seed);
    });
    const lines = real.map((k) => chain(k, 1).lines[0]!);
    const template = lines[0]!;
    for (let i = 0; lines.length < 100_001; i++) lines.push(template.replaceAll(real[0]!.publicKey, (0x8000_0000 + i).toString(16).padStart(64, 'e')));
    const r = l.ingest(lines);
    expect(r.accepted).toBe(0);
    expect(r.waiting).toBe(HELD_AUTHORS);
    expect(r.dropped + r.waiting + r.rejected.length).toBe(100_001);
    expect(Object.keys(l.heads())).toEqual([admin.id].sort());
    expect(JSON.stringify(new SyncEngine(l, 'door-pi', () => {}).have()).length).toBeLessThan(1000);
    expect(l.pendingStats().unauthorisedAuthors).toBe(HELD_AUTHORS);
    l.flush();
    expect(statSync(l.path).size + (statSync(`${l.path}-wal`, { throwIfNoEntry: false })?.size ?? 0)).toBeLessThan(8 * 1024 * 1024);
    // A held key that is then enrolled: its entry applies.
    l.append(admin.key, 'node.enrol', { node: real[0]!.publicKey, name: 'new-pi', role: 'edge', resources: ['door'] });
    expect(l.heads()[real[0]!.publicKey]).toBe(1);
  });
});

describe('finding 3: a re-encoded copy never makes ingest throw', () => {
  const copies: Array<[string, (line: string) => string]> = [
    ['"logical":-0', (line) => line.replace('"logical":0,', '"logical":-0,')],
    // In free text (the reason), which every schema accepts as a string.
    ['a lone surrogate', (line) => line.replace('"reason":"', '"reason":"\\ud800')],
  ];
  for (const [name, recode] of copies) {
    it(`a copy with ${name} ahead of a gap: the genuine entries of its batch and of later batches are ingested, also through SyncEngine.receive`, () => {
      const l = replica();
      l.ingest(NODE.lines.slice(0, 2));
      const bad = recode(NODE.lines[3]!);
      expect(bad).not.toBe(NODE.lines[3]);
      const invalid: string[] = [];
      const engine = new SyncEngine(l, 'door-pi', () => {}, { onInvalid: (reason) => invalid.push(reason) });
      const batch = (entries: string[]): SyncMessage => ({ kind: 'batch', node: PEER, entries });
      expect(() => engine.receive(PEER, batch([bad, ADMIN[3]!, ADMIN[4]!]))).not.toThrow();
      expect(l.heads()[admin.id]).toBe(5);
      expect(() => engine.receive(PEER, batch([NODE.lines[2]!, NODE.lines[3]!, NODE.lines[4]!, ADMIN[5]!]))).not.toThrow();
      expect(l.heads()).toMatchObject({ [node.publicKey]: 5, [admin.id]: 6 });
      expect(l.ingest(NODE.lines.slice(5))).toMatchObject({ accepted: 3, rejected: [] });
      expect(invalid).toEqual([]);
      expect(l.verify()).toEqual([]);
    });
  }

  it('an entry object that cannot be encoded is a rejection, not an exception', () => {
    const l = replica();
    const entry = JSON.parse(NODE.lines[0]!) as { hlc: { wall: number; logical: number } };
    entry.hlc.logical = -0;
    const weird = { ...entry, body: { ...decision(1), credential: { kind: 'card', card: '\ud800' } } };
    const r = l.ingest([entry as never, weird as never, NODE.lines[0]!]);
    expect(r.accepted).toBe(1);
    expect(r.rejected.length).toBeGreaterThanOrEqual(1);
  });
});

describe('finding 13: the quarantine is deduplicated and bounded', () => {
  it('the same invalid line delivered 50,000 times is one row, with its count', () => {
    const l = replica();
    const line = '{"not":"an entry"}';
    for (let i = 0; i < 5; i++) l.ingest(Array.from({ length: 10_000 }, () => line));
    expect(l.quarantined(10)).toEqual([expect.objectContaining({ code: 'SCHEMA', count: 50_000 })]);
  });

  it(`50,000 distinct invalid entries claiming one author leave at most ${QUARANTINE_PER_AUTHOR} rows of it (the newest)`, () => {
    const l = replica();
    // Cut short (not JSON): refused before any other check, so 50,000 of them are cheap to send.
    const lines = Array.from({ length: 50_000 }, (_, i) => `{"author":"${node.publicKey}","seq":${i + 2},"body":`);
    const r = l.ingest(lines);
    expect(r.rejected).toHaveLength(50_000);
    expect(r.rejected[0]).toMatchObject({ code: 'BAD_JSON', author: node.publicKey, seq: 2 });
    expect(rows(l, 'SELECT count(*) AS n FROM quarantine WHERE author = ?', node.publicKey)).toBe(QUARANTINE_PER_AUTHOR);
    expect(rows(l, 'SELECT min(seq) AS n FROM quarantine WHERE author = ?', node.publicKey)).toBe(50_001 - QUARANTINE_PER_AUTHOR + 1);
  });
});

describe('finding 13: the quarantine in total', () => {
  it(`keeps at most ${QUARANTINE_TOTAL} rows, the ones seen last`, () => {
    const l = replica();
    // Cut short, each naming another author (not first: a line that leads with an unknown
    // author past the held keys' bound is dropped unread, see the throwaway keys above).
    const author = (i: number) => i.toString(16).padStart(64, '0');
    const line = (i: number) => `{"a":0,"author":"${author(i)}","seq":1,"body":`;
    l.ingest(Array.from({ length: 8000 }, (_, i) => line(i)));
    l.ingest(Array.from({ length: 4000 }, (_, i) => line(8000 + i)));
    expect(rows(l, 'SELECT count(*) AS n FROM quarantine')).toBe(QUARANTINE_TOTAL);
    expect(rows(l, 'SELECT count(*) AS n FROM quarantine WHERE author = ?', author(0))).toBe(0); // the oldest went
    expect(rows(l, 'SELECT count(*) AS n FROM quarantine WHERE author = ?', author(11_999))).toBe(1);
  });
});

describe('clearing what a node wrongly believed', () => {
  it('Ledger.clear forgets peers, pending (all or one author) and the quarantine, never a feed', () => {
    const l = replica();
    l.noteRemoteHeads(LIAR, { [node.publicKey]: 50 });
    l.ingest([NODE.lines[4]!, '{"junk":1}']);
    l.ingest(chain(testKey(77), 2).lines); // a key without authority: held
    expect(l.pendingStats()).toEqual({ entries: 3, unauthorisedAuthors: 1 });
    expect(l.clear({ pending: testKey(77).publicKey })).toEqual({ peers: 0, pending: 2, quarantine: 0 });
    expect(() => l.append(node, 'access.decision', decision(1))).toThrow(expect.objectContaining({ code: 'SELF_FEED_BEHIND' }));
    expect(l.clear({ peers: true, pending: true, quarantine: true })).toEqual({ peers: 1, pending: 1, quarantine: 1 });
    expect(l.syncLag()).toEqual({});
    expect(l.quarantined()).toEqual([]);
    expect(l.heads()[admin.id]).toBe(3);
    expect(l.append(node, 'access.decision', decision(1)).entry.seq).toBe(1);
  });
});

describe('property: no unsigned or forged input changes what append does', () => {
  it('any sequence of haves, forged entries and entries of keys without authority: the next append is the same entry', () => {
    const control = replica();
    control.append(node, 'access.decision', decision(1));
    const expected = control.append(node, 'access.decision', decision(2)).entry;
    const stranger = testKey(88);
    const genuine = chain(node, 6).lines;
    const noise = fc.oneof(
      fc.record({ kind: fc.constant('have' as const), peer: fc.nat(3), seq: fc.nat(1e9), own: fc.boolean() }),
      fc.record({ kind: fc.constant('forged' as const), at: fc.integer({ min: 1, max: 5 }), seq: fc.integer({ min: 1, max: 2000 }), sig: fc.constantFrom('zero', 'other', 'flipped') }),
      fc.record({ kind: fc.constant('stranger' as const), n: fc.integer({ min: 1, max: 3 }), ahead: fc.integer({ min: 0, max: 200_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(noise, { maxLength: 12 }), (ops) => {
        const l = Ledger.open(':memory:', { site: site.site, now: () => NOW, durability: 'process' });
        try {
          l.ingest(ADMIN.slice(0, 3));
          l.append(node, 'access.decision', decision(1));
          const engine = new SyncEngine(l, 'door-pi', () => {});
          for (const op of ops) {
            if (op.kind === 'have') engine.receive(peer(op.peer), { kind: 'have', node: peer(op.peer), heads: { [op.own ? node.publicKey : stranger.publicKey]: op.seq } });
            else if (op.kind === 'forged') {
              const line = genuine[op.at]!.replace(`"seq":${op.at + 1},`, `"seq":${op.seq},`);
              const sig = op.sig === 'zero' ? ZERO_SIG : op.sig === 'other' ? JSON.parse(genuine[0]!).sig as string : (JSON.parse(line).sig as string).replace(/^./, (c) => (c === '0' ? '1' : '0'));
              engine.receive(PEER, { kind: 'batch', node: PEER, entries: [withSig(line, sig)] });
            } else {
              // Genuinely signed, stamped up to 200 s ahead: held, so its stamp must not move the clock.
              engine.receive(PEER, { kind: 'batch', node: PEER, entries: chain(stranger, op.n, 1, null, '', NOW + op.ahead).lines });
            }
          }
          expect(l.append(node, 'access.decision', decision(2)).entry).toEqual(expected);
        } finally {
          l.close();
        }
      }),
      // 200 sequences by default (1000 cost ~20 s): each is up to 12 operations over the three
      // kinds (haves, forged batches with three kinds of bad signature, strangers' entries up to
      // 200 s ahead), so 200 runs still draw every kind and signature hundreds of times.
      // A deeper run: KEYMESH_PROPERTY_RUNS=1000 npm test.
      { numRuns: Number(process.env.KEYMESH_PROPERTY_RUNS) || 200 },
    );
  });
});

describe('keymesh-ledger clear', () => {
  const BIN = fileURLToPath(new URL('../bin/keymesh-ledger.js', import.meta.url));
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('clears peers, one author\'s or all pending, and the quarantine of a closed database; --help; no flag is a usage error (exit 2)', () => {
    const l = replica();
    l.noteRemoteHeads(LIAR, { [node.publicKey]: 50 });
    l.ingest([NODE.lines[4]!, '{"junk":1}', ...chain(testKey(77), 2).lines]);
    const { path } = l;
    l.close();
    expect(cli('clear', '--help')).toMatchObject({ code: 0, stdout: expect.stringContaining('--pending [AUTHOR]') });
    expect(cli('clear', path)).toMatchObject({ code: 2, stderr: expect.stringMatching(/at least one of --peers/) });

    const one = cli('clear', path, '--pending', testKey(77).publicKey, '--json');
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual({ ok: true, cleared: { peers: 0, pending: 2, quarantine: 0 } });
    const all = cli('clear', path, '--peers', '--pending', '--quarantine');
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/peers' claims\s+1/);
    expect(all.stdout).toMatch(/pending\s+1/);
    expect(all.stdout).toMatch(/quarantine\s+1/);

    const again = track(Ledger.open(path, { site: site.site, now: () => NOW }));
    expect(again.syncLag()).toEqual({});
    expect(again.quarantined()).toEqual([]);
    expect(again.pendingStats().entries).toBe(0);
    expect(again.heads()[admin.id]).toBe(3);
    expect(again.append(node, 'access.decision', decision(1)).entry.seq).toBe(1);
  });
});
