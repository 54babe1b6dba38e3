// Issue 10, findings 6, 8 and 9 on the ledger: fork proofs travel with sync and export, a deep
// `deps` chain never loses a batch, and entries of a newer version are stored inert.
import { describe, it, expect, afterAll } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { MAX_HAVE_FORKS, decide, encodeEntry, entryHash, keyPairFromSeed, type SyncMessage } from '@keymesh/protocol';
import { TestSite, memberBody, playHistory, resourceBody, shuffled, testKey, type HistoryStep, testCard } from '@keymesh/testkit/site';
import fc from 'fast-check';
import { Ledger } from './ledger.js';
import { SyncEngine } from './sync/engine.js';
import { IngestPool } from './ingest-pool.js';
import { importFile, waitingIn } from './import-file.js';
import { RawFeed } from '@keymesh/testkit/raw-feed';
import { tempDir, tempLedger } from '@keymesh/testkit/temp-ledger';

const T0 = 1_700_000_000_000;
const BIN = fileURLToPath(new URL('../bin/keymesh-ledger.js', import.meta.url));
const opened: Ledger[] = [];
const track = (l: Ledger) => (opened.push(l), l);
afterAll(() => opened.forEach((l) => l.close()));
const fresh = (site: string) => track(tempLedger(site, { now: () => T0 }));

/** Rounds run synchronously, so nothing may be deferred past a time slice (see sync.test.ts): no slices. */
const UNSLICED = Number.POSITIVE_INFINITY;

/** Two replicas linked by SyncEngines over an in-order queue; round() runs one exchange of heads to the end. */
function link(a: Ledger, b: Ledger) {
  const queue: Array<{ to: () => SyncEngine; from: string; msg: SyncMessage }> = [];
  const [ka, kb] = [testKey(101).publicKey, testKey(102).publicKey];
  const ea: SyncEngine = new SyncEngine(a, ka, (_to, m) => queue.push({ to: () => eb, from: ka, msg: JSON.parse(JSON.stringify(m)) as SyncMessage }), { sliceMs: UNSLICED });
  const eb: SyncEngine = new SyncEngine(b, kb, (_to, m) => queue.push({ to: () => ea, from: kb, msg: JSON.parse(JSON.stringify(m)) as SyncMessage }), { sliceMs: UNSLICED });
  return {
    /** Returns the kinds of the messages exchanged. */
    round(): string[] {
      ea.announce(kb);
      eb.announce(ka);
      const kinds: string[] = [];
      for (let m = queue.shift(); m; m = queue.shift()) {
        kinds.push(m.msg.kind);
        m.to().receive(m.from, m.msg);
      }
      return kinds;
    },
  };
}

/**
 * Admin A's feed: genesis, door, edge node, member ada; then two different signed entries at
 * seq 5: X binds card a1 to ada, Y unbinds it. A replica holding both stops trusting A from seq 5.
 */
function forkedAdmin() {
  const site = new TestSite({ now: () => T0 });
  const A = site.admins[0]!;
  const edge = testKey(30);
  const setup = [site.genesis, A.write('resource.put', resourceBody('door', { kind: 'door' })), A.write('node.enrol', { node: edge.publicKey, name: 'door-pi', role: 'edge', resources: ['door'] }), A.write('member.put', memberBody('ada'))];
  const x = A.write('card.bind', { card: testCard('a1'), member: 'ada' });
  const y = new RawFeed(A.key, site.site, () => ({ wall: T0, logical: 99 })).after(4, entryHash(setup[3]!)).write('card.unbind', { card: testCard('a1'), reason: 'lost' });
  return { site, A, lines: [...setup, x].map((e) => encodeEntry(e)), forkLine: y.line };
}
const tap = (l: Ledger) => decide(l.policy, { kind: 'card', card: testCard('a1') }, 'door', T0, { node: testKey(30).publicKey });

describe('finding 6: fork proofs travel', () => {
  it('a replica that syncs from one holding both entries of a fork ends with the same forks, digest and decisions, and passes them on', () => {
    const { site, A, lines, forkLine } = forkedAdmin();
    const r1 = fresh(site.site);
    expect(r1.ingest(lines)).toMatchObject({ accepted: 5, rejected: [] });
    expect(tap(r1)).toMatchObject({ allow: true });
    expect(r1.ingest([forkLine]).forks).toEqual([{ author: A.id, seq: 5 }]);
    expect(tap(r1)).toMatchObject({ allow: false }); // A's entries from seq 5 on are not trusted

    const r2 = fresh(site.site);
    const l12 = link(r1, r2);
    l12.round();
    l12.round();
    expect(r2.heads()).toEqual(r1.heads());
    expect(r2.forks()).toEqual(r1.forks());
    expect(r2.digest()).toBe(r1.digest());
    expect(tap(r2)).toEqual(tap(r1));
    // Known on both sides now: a round exchanges heads only.
    expect(l12.round()).toEqual(['have', 'have']);

    // And onwards: a third replica that only ever talks to the second gets the proof too.
    const r3 = fresh(site.site);
    const l23 = link(r2, r3);
    l23.round();
    l23.round();
    expect(r3.forks()).toEqual(r1.forks());
    expect(r3.digest()).toBe(r1.digest());
    expect(tap(r3)).toMatchObject({ allow: false });
  });

  it('replicas holding random parts of histories with forks and newer-version entries end, after sync, with the forks and digest of one holding everything (30 histories)', () => {
    const step = fc.tuple(fc.nat(4), fc.nat(15), fc.nat(50), fc.nat(50)) as fc.Arbitrary<HistoryStep>;
    fc.assert(
      fc.property(fc.array(step, { maxLength: 12 }), fc.nat(), (steps, seed) => {
        // Both admins fork their feed at some point (kind 15); kind 14 writes a type of a newer release.
        // Left out: admin-set changes that drop a key altogether (kind 13), after which whether
        // that key's entries become a feed depends on arrival order (PolicyState.hasAuthority
        // reads the current admin set; reported to its owner).
        const h = playHistory([...steps.filter(([, kind]) => kind % 16 !== 13), [0, 15, seed % 7, 1], [1, 15, seed % 5, 2], [3, 14, 1, 1]]);
        const all = h.entries().map((e) => encodeEntry(e));
        const reference = fresh(h.site.site);
        for (const part of [all, all]) reference.ingest(shuffled(part, seed)); // twice: a fork's twin may first wait
        const replicas = [fresh(h.site.site), fresh(h.site.site), fresh(h.site.site)];
        shuffled(all, seed + 1).forEach((line, i) => replicas[(i + seed) % 3]!.ingest([line]));
        const links = [link(replicas[0]!, replicas[1]!), link(replicas[1]!, replicas[2]!)];
        // Entries past a gap wait on their replica until the gap closes: run rounds until nothing moves.
        const settle = () => {
          const state = () => replicas.map((x) => `${JSON.stringify(x.heads())}${x.digest()}`).join();
          for (let r = 0, last = ''; r < 40 && state() !== last; r++) {
            last = state();
            for (const l of links) l.round();
          }
        };
        settle();
        // Then one replica gets every entry (finding 6: it holds both entries of every fork), as a
        // node that hears every branch would: an entry refused at first (it named the branch this
        // replica did not hold) exists somewhere again. Two replicas that each hold one branch at
        // equal heads cannot tell from seqs alone: signed heads (DESIGN §7) can.
        replicas[0]!.ingest(all);
        settle();
        try {
          // Forks that still matter (a key with authority at that seq) are the same everywhere; one
          // by a key past its authority may be seen only where its entries were stored before the
          // withdrawal arrived (they are held apart otherwise), and changes nothing.
          const live = (x: Ledger) => x.forks().filter((f) => !f.resolved);
          for (const x of replicas) {
            expect(live(x)).toEqual(live(reference));
            expect(x.digest()).toBe(reference.digest());
          }
          expect(reference.forks().length).toBeGreaterThan(0);
        } finally {
          for (const x of [reference, ...replicas]) x.close();
        }
      }),
      { numRuns: 30 },
    );
  }, 120_000);

  it('the forks a have names are bounded: a larger claim is dropped as invalid and changes nothing', () => {
    const { site, lines, forkLine } = forkedAdmin();
    const r1 = fresh(site.site);
    r1.ingest(lines);
    r1.ingest([forkLine]); // after the feed: the feed keeps X, Y is the proof
    const sent: SyncMessage[] = [];
    const invalid: string[] = [];
    const e = new SyncEngine(r1, testKey(101).publicKey, (_to, m) => sent.push(m), { onInvalid: (reason) => invalid.push(reason), sliceMs: UNSLICED });
    const peer = testKey(102).publicKey;
    const forks = Object.fromEntries(Array.from({ length: MAX_HAVE_FORKS + 1 }, (_, i) => [testKey(1000 + i).publicKey, { seq: 1, entries: 2 }]));
    e.receive(peer, { kind: 'have', node: peer, heads: {}, forks });
    expect(invalid).toHaveLength(1);
    expect(sent).toEqual([]);
    // Within the bound, a peer that names none gets the ranges, then the proof.
    e.receive(peer, { kind: 'have', node: peer, heads: {} });
    const batches = sent.filter((m) => m.kind === 'batch').flatMap((m) => (m.kind === 'batch' ? m.entries : []));
    expect(batches.at(-1)).toBe(forkLine);
    expect(e.have().forks).toEqual(Object.fromEntries(r1.forks().map((f) => [f.author, { seq: f.seq, entries: 2 }])));
  });

  it('keymesh-ledger export writes the fork proofs after the feeds; import records them, in any line order', () => {
    const { site, A, lines, forkLine } = forkedAdmin();
    const r1 = fresh(site.site);
    r1.ingest(lines);
    r1.ingest([forkLine]); // after the feed: the feed keeps X, Y is the proof
    const digest = r1.digest();
    r1.flush();
    const ex = spawnSync(process.execPath, [BIN, 'export', r1.path], { encoding: 'utf8' });
    expect(ex.status).toBe(0);
    const exported = ex.stdout.trimEnd().split('\n');
    expect(exported).toHaveLength(6);
    expect(exported[5]).toBe(forkLine); // the proof comes after the feeds
    expect(r1.forkProofs()).toEqual([forkLine]);
    const help = spawnSync(process.execPath, [BIN, 'export', '--help'], { encoding: 'utf8' }).stdout;
    expect(help).not.toMatch(/fork proofs are not exported/);

    const dir = tempDir();
    for (const [name, order] of [['in-order', exported], ['shuffled', shuffled(exported, 4)], ['proof-first', [...exported].reverse()]] as const) {
      const file = join(dir, `${name}.jsonl`);
      writeFileSync(file, order.join('\n') + '\n');
      const db = join(dir, `${name}.db`);
      const im = spawnSync(process.execPath, [BIN, 'import', db, file, '--json'], { encoding: 'utf8' });
      const report = JSON.parse(im.stdout) as { forks: unknown[]; rejected: unknown[]; digest: string };
      expect(report.rejected).toEqual([]);
      expect(report.forks).toEqual([{ author: A.id, seq: 5 }]);
      expect(im.status).toBe(1); // a fork found is reported as a problem: an admin must act
      expect(report.digest).toBe(digest);
      const copy = track(Ledger.open(db, { site: site.site, durability: 'process' }));
      expect(copy.forks()).toEqual(r1.forks());
      expect(tap(copy)).toMatchObject({ allow: false });
    }
  });
});

describe('finding 9: entries of a newer version', () => {
  /** An enrolled door node whose feed mixes decisions with a type and a body this release does not know. */
  function newerNode() {
    const site = new TestSite({ now: () => T0 });
    const A = site.admins[0]!;
    const node = new RawFeed(testKey(30), site.site, () => ({ wall: T0, logical: 0 }));
    const setup = [site.genesis, A.write('resource.put', resourceBody('door', { kind: 'door' })), A.write('node.enrol', { node: node.id, name: 'door-pi', role: 'edge', resources: ['door'] }), A.write('member.put', memberBody('ada'))].map((e) => encodeEntry(e));
    const decision = (at: number) => ({ resource: 'door', credential: { kind: 'card', card: testCard('a1') }, allow: false, reason: 'UNKNOWN_CARD', member: null, at });
    const feed = [
      node.write('access.decision', decision(T0 + 1)).line,
      node.write('door.unknown_future', { resource: 'door', level: 3 }).line,
      node.write('door.event', { resource: 'door', event: 'opened', at: T0 + 2, colour: 'red' }).line, // a newer body of a known type
      node.write('access.decision', decision(T0 + 3)).line,
    ];
    return { site, A, node, setup, feed };
  }

  it('is stored, advances its feed, changes nothing and is counted; later entries of the feed apply; it syncs and imports like any entry', async () => {
    const { site, node, setup, feed } = newerNode();
    const l = fresh(site.site);
    l.ingest([...setup, feed[0]!]);
    const digest = l.digest();
    expect(l.ingest([feed[1]!, feed[2]!])).toMatchObject({ accepted: 2, rejected: [], waiting: 0 });
    expect(l.heads()[node.id]).toBe(3);
    expect(l.digest()).toBe(digest);
    expect(l.heldForNewerVersion()).toBe(2);
    expect(l.alarms().map((a) => a.kind)).toContain('held');
    expect(l.ingest([feed[3]!])).toMatchObject({ accepted: 1, rejected: [] });
    expect(l.heads()[node.id]).toBe(4);
    expect(l.accessLog().rows.map((r) => r.seq)).toEqual([4, 1]);
    expect(l.verify()).toEqual([]);

    const peer = fresh(site.site);
    const sync = link(l, peer);
    sync.round();
    expect(peer.heads()).toEqual(l.heads());
    expect(peer.heldForNewerVersion()).toBe(2);
    expect(peer.digest()).toBe(l.digest());

    const pooled = fresh(site.site);
    const pool = new IngestPool(pooled);
    try {
      expect(await pool.ingest([...setup, ...feed])).toMatchObject({ accepted: 8, rejected: [] });
    } finally {
      await pool.close();
    }
    expect(pooled.heldForNewerVersion()).toBe(2);
    expect(pooled.digest()).toBe(l.digest());

    const file = join(tempDir(), 'newer.jsonl');
    writeFileSync(file, [...l.iterateEncoded()].join('\n'));
    const imported = fresh(site.site);
    expect(await importFile(imported, file, { batch: 3 })).toMatchObject({ accepted: 8, rejected: [] });
    expect(imported.heldForNewerVersion()).toBe(2);
    expect(imported.digest()).toBe(l.digest());
  });

  it('after an upgrade, held entries the release now understands are re-read on open: applied and no longer counted', () => {
    const { site, A, setup, feed } = newerNode();
    const bob = encodeEntry(A.write('member.put', memberBody('bob')));
    const reference = fresh(site.site);
    reference.ingest([...setup, ...feed, bob]);
    const l = fresh(site.site);
    l.ingest([...setup, ...feed, bob]);
    const { path } = l;
    l.close();
    // What an older release that did not know member.put bodies or access decisions would have
    // left: bob's entry and the first decision stored inert and listed as held.
    const db = new Database(path);
    const bobId = (db.prepare("SELECT id FROM entries WHERE pkey = 'member/bob'").get() as { id: bigint | number }).id;
    const eventId = (db.prepare("SELECT id FROM entries WHERE type = 'access.decision' ORDER BY id LIMIT 1").get() as { id: bigint | number }).id;
    db.prepare('UPDATE entries SET pkey = NULL WHERE id = ?').run(bobId);
    db.prepare("DELETE FROM policy WHERE pkey = 'member/bob'").run();
    for (const t of ['events', 'events_by_member', 'events_by_resource']) db.prepare(`DELETE FROM ${t} WHERE id = ?`).run(eventId);
    db.prepare('INSERT INTO held (id) VALUES (?), (?)').run(bobId, eventId);
    db.close();

    const before = track(Ledger.open(path, { site: site.site, readonly: true }));
    expect(before.heldForNewerVersion()).toBe(4);
    expect(before.member('bob')).toBeUndefined();
    expect(before.digest()).not.toBe(reference.digest());
    before.close();

    const after = track(Ledger.open(path, { site: site.site, durability: 'process' }));
    expect(after.heldForNewerVersion()).toBe(2);
    expect(after.member('bob')).toBeDefined();
    expect(after.materialised()).toEqual(reference.materialised());
    expect(after.accessLog().rows.map((r) => r.seq)).toEqual(reference.accessLog().rows.map((r) => r.seq));
    expect(after.digest()).toBe(reference.digest());
    after.close();
    const again = track(Ledger.open(path, { site: site.site, durability: 'process' }));
    expect(again.heldForNewerVersion()).toBe(2);
    expect(again.digest()).toBe(reference.digest());
  });
});

describe('finding 8: a deep deps chain', () => {
  /** 5,000 admins.change entries, each naming the one before in `deps`, by `feedOf(i)`. */
  function chain(site: TestSite, feedOf: (i: number) => RawFeed): string[] {
    const out: string[] = [];
    let prev = site.site;
    for (let i = 0; i < 5000; i++) {
      const f = feedOf(i);
      const { line, hash } = f.write('admins.change', { admins: [{ key: f.id, until: null }], quorum: 1, approvals: [] }, { deps: [prev] });
      out.push(line);
      prev = hash;
    }
    return out;
  }

  it('5,000 chained admins.change by throwaway keys, newest first: ingest does not throw or lose the batch; import keeps the valid lines and says what became of the rest', async () => {
    const site = new TestSite({ now: () => T0 });
    const A = site.admins[0]!;
    const throwaway = (i: number) => {
      const seed = new Uint8Array(32);
      new DataView(seed.buffer).setUint32(0, 0x51000000 + i);
      return new RawFeed(keyPairFromSeed(seed), site.site, () => ({ wall: T0, logical: 0 }));
    };
    const newestFirst = [encodeEntry(site.genesis), encodeEntry(A.write('member.put', memberBody('ada'))), ...chain(site, throwaway).reverse()];

    const l = fresh(site.site);
    const r = l.ingest(newestFirst);
    expect(r.accepted + r.duplicates + r.waiting + r.dropped + r.rejected.length).toBe(newestFirst.length);
    expect(r.accepted).toBe(2);
    expect(l.member('ada')).toBeDefined();
    expect(l.policy.admins()?.value.admins).toEqual({ [A.id]: null });

    const file = join(tempDir(), 'deep.jsonl');
    writeFileSync(file, newestFirst.join('\n') + '\n');
    const imported = fresh(site.site);
    const s = await importFile(imported, file, { batch: 5000 });
    expect(s.lines).toBe(newestFirst.length);
    expect(s.accepted).toBe(2);
    expect(imported.member('ada')).toBeDefined();
    // Every other line is accounted for: held for later, or dropped at the bounds (reported), or refused with a reason.
    expect(s.accepted + s.duplicates + waitingIn(imported.path) + s.dropped + s.rejected.length).toBe(newestFirst.length);
    expect(s.dropped).toBeGreaterThan(0);
    for (const x of s.rejected) expect(x.reason.length).toBeGreaterThan(10);
    expect(imported.digest()).toBe(l.digest());
  }, 60_000);

  it('5,000 chained admins.change in the feed of one key with authority (a member key), newest first: all stored, no throw, the admin set unchanged', () => {
    const site = new TestSite({ now: () => T0 });
    const A = site.admins[0]!;
    const mallory = new RawFeed(testKey(60), site.site, () => ({ wall: T0, logical: 0 }));
    const setup = [site.genesis, A.write('member.put', memberBody('mallory', { keys: [{ key: mallory.id, until: null }] }))].map((e) => encodeEntry(e));
    const deep = chain(site, () => mallory);
    const l = fresh(site.site);
    l.ingest(setup);
    const digest = l.digest();
    const r = l.ingest([...deep].reverse());
    expect(r).toMatchObject({ accepted: 5000, rejected: [] });
    expect(l.heads()[mallory.id]).toBe(5000);
    expect(l.policy.admins()?.value.admins).toEqual({ [A.id]: null });
    expect(l.digest()).toBe(digest);
    expect(l.append(A.key, 'member.put', memberBody('ada')).entry.seq).toBe(3);
    expect(l.member('ada')).toBeDefined();
  }, 60_000);
});
