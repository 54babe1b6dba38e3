// Issue 10, findings 2, 7 and 12: one canonical check on every path, a clock no entry can
// poison, and `now` as DESIGN §10 defines it (restrictive entries obeyed whatever their stamp).
import { describe, it, expect, afterAll } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decide, encodeEntry, entryHash, type AnyEntry } from '@keymesh/protocol';
import { TestSite, memberBody, resourceBody, testKey, testCard } from '@keymesh/testkit/site';
import { Ledger } from './ledger.js';
import { IngestPool } from './ingest-pool.js';
import { importFile } from './import-file.js';
import { RawFeed, signText } from '@keymesh/testkit/raw-feed';
import { tempDir, tempLedger } from '@keymesh/testkit/temp-ledger';

const DAY = 86_400_000;
const T0 = 1_700_000_000_000;
const opened: Ledger[] = [];
const track = (l: Ledger) => (opened.push(l), l);
afterAll(() => opened.forEach((l) => l.close()));

/** A site whose admin A has set up a door, an edge node for it, and member ada with card a1. */
function space(clock: () => number = () => T0) {
  const site = new TestSite({ now: clock });
  const A = site.admins[0]!;
  const edge = testKey(30);
  const setup = [
    site.genesis,
    A.write('resource.put', resourceBody('door', { kind: 'door' })),
    A.write('node.enrol', { node: edge.publicKey, name: 'door-pi', role: 'edge', resources: ['door'] }),
    A.write('member.put', memberBody('ada')),
    A.write('card.bind', { card: testCard('a1'), member: 'ada' }),
  ];
  return { site, A, edge, setup: setup.map((e) => encodeEntry(e)) };
}

const lineOf = (e: AnyEntry) => encodeEntry(e);
/** The entry's line with its `sig` field moved to the end: the same content, signature and hash. */
function sigMoved(line: string): string {
  const at = line.lastIndexOf(',"sig":"');
  const end = line.indexOf('"', at + 8) + 1;
  return `${line.slice(0, at)}${line.slice(end, -1)},${line.slice(at + 1, end)}}`;
}
const tap = (l: Ledger, when: number) => decide(l.policy, { kind: 'card', card: testCard('a1') }, 'door', when, { node: testKey(30).publicKey });

describe('finding 2: one canonical check on every path', () => {
  it('a relay moving `sig` inside a genuine entry is refused NOT_CANONICAL_BYTES; the genuine copy is then accepted and verify() passes', async () => {
    const { A, setup } = space();
    const genuine = lineOf(A.write('member.put', memberBody('bob')));
    const moved = sigMoved(genuine);
    expect(moved).not.toBe(genuine);
    expect(JSON.parse(moved)).toEqual(JSON.parse(genuine));

    const ledger = track(tempLedger(JSON.parse(setup[1]!).site, { now: () => T0 }));
    expect(ledger.ingest(setup)).toMatchObject({ accepted: 5, rejected: [] });
    const r = ledger.ingest([moved]);
    expect(r.accepted).toBe(0);
    expect(r.rejected.map((x) => x.code)).toEqual(['NOT_CANONICAL_BYTES']);
    expect(ledger.member('bob')).toBeUndefined();
    // As an object the same entry is fine: it is encoded canonically.
    expect(ledger.ingest([JSON.parse(moved) as AnyEntry])).toMatchObject({ accepted: 1, rejected: [] });
    expect(ledger.ingest([genuine])).toMatchObject({ duplicates: 1, rejected: [] });
    expect(ledger.readEncoded(A.id, 6, 1)).toEqual([genuine]);
    expect(ledger.verify()).toEqual([]);

    // The worker pool (ingestChecked) and the import refuse it for the same reason.
    const pooled = track(tempLedger(ledger.site, { now: () => T0 }));
    const pool = new IngestPool(pooled);
    try {
      const p = await pool.ingest([...setup, moved]);
      expect(p.rejected.map((x) => x.code)).toEqual(['NOT_CANONICAL_BYTES']);
      expect(await pool.ingest([genuine])).toMatchObject({ accepted: 1, rejected: [] });
    } finally {
      await pool.close();
    }
    expect(pooled.verify()).toEqual([]);
    const file = join(tempDir(), 'moved.jsonl');
    writeFileSync(file, [...setup, moved].join('\n'));
    const imported = track(tempLedger(ledger.site, { now: () => T0 }));
    const s = await importFile(imported, file, { batch: 100 });
    expect(s.rejected).toEqual([expect.objectContaining({ line: 6, code: 'NOT_CANONICAL_BYTES' })]);
    expect(s.accepted).toBe(5);
  });

  it('an author signing text with a duplicated key ("status":"active","status":"suspended") is refused', () => {
    const { site, A, setup } = space();
    const ledger = track(tempLedger(site.site, { now: () => T0 }));
    ledger.ingest(setup);
    const head = JSON.parse(ledger.readEncoded(A.id, 5, 1)[0]!) as AnyEntry;
    const feed = new RawFeed(A.key, site.site, () => ({ wall: T0, logical: 9 })).after(5, entryHash(head));
    const text = feed.unsigned('member.put', memberBody('ada'), { deps: ledger.policy.headHashes('member/ada') });
    const twoWays = text.replace('"status":"active"', '"status":"active","status":"suspended"');
    expect(twoWays).not.toBe(text);
    const { line } = signText(A.key, twoWays);
    const before = ledger.digest();
    const r = ledger.ingest([line]);
    expect(r.accepted).toBe(0);
    expect(r.rejected.map((x) => x.code)).toEqual(['NOT_CANONICAL_BYTES']);
    expect(ledger.heads()[A.id]).toBe(5);
    expect(ledger.member('ada')?.status).toBe('active');
    expect(ledger.digest()).toBe(before);
    expect(ledger.verify()).toEqual([]);
  });
});

describe('finding 7: no entry poisons the clock', () => {
  it('after an entry stamped with logical 2^31 (a key with no authority), the next own entries are accepted by a peer', () => {
    const { site, A, setup } = space();
    const ledger = track(tempLedger(site.site, { now: () => T0 }));
    ledger.ingest(setup);
    const outsider = new RawFeed(testKey(40), site.site, () => ({ wall: T0, logical: 2 ** 31 }));
    ledger.ingest([outsider.write('member.put', memberBody('x')).line]);
    // A bad signature with the same stamp never gets near the clock either.
    const forged = new RawFeed(testKey(41), site.site, () => ({ wall: T0 + 1000, logical: 2 ** 31 })).write('member.put', memberBody('y')).line;
    ledger.ingest([forged.replace(/"sig":"[0-9a-f]{8}/, '"sig":"00000000')]);

    const own = [ledger.append(A.key, 'member.put', memberBody('bob')).entry, ledger.append(A.key, 'member.put', memberBody('cy')).entry];
    for (const e of own) expect(e.hlc.logical).toBeLessThanOrEqual(2 ** 31);
    const peer = track(tempLedger(site.site, { now: () => T0 }));
    const r = peer.ingest(ledger.readEncoded(A.id, 1, 100));
    expect(r.rejected).toEqual([]);
    expect(peer.heads()[A.id]).toBe(7);
    expect(peer.member('cy')).toBeDefined();
  });
});

describe('finding 12: now, far-future stamps and restrictive entries', () => {
  const NOW = T0 + 31 * DAY;
  /** A site set up at T0, and a node whose wall clock says 30 days before NOW. */
  function lagging() {
    let t = T0;
    const s = space(() => t);
    const ledger = track(tempLedger(s.site.site, { now: () => NOW - 30 * DAY }));
    expect(ledger.ingest(s.setup)).toMatchObject({ accepted: 5, rejected: [] });
    return { ...s, ledger, at: (ms: number) => (t = ms) };
  }

  it('a node whose clock is 30 days behind obeys a suspension signed today; its stamp does not move the clock', () => {
    const { A, ledger, at } = lagging();
    expect(tap(ledger, ledger.now())).toMatchObject({ allow: true });
    at(NOW);
    const suspension = A.write('member.put', memberBody('ada', { status: 'suspended' }));
    const bob = A.write('member.put', memberBody('bob'));
    const r = ledger.ingest([lineOf(suspension), lineOf(bob)]);
    expect(r.accepted).toBe(1);
    // Not restrictive, and nothing verified says it is NOW yet: refused as before.
    expect(r.rejected.map((x) => x.code)).toEqual(['CLOCK_AHEAD']);
    expect(tap(ledger, ledger.now())).toMatchObject({ allow: false, reason: 'MEMBER_SUSPENDED' });
    expect(ledger.now()).toBe(NOW - 30 * DAY);
    const { path } = ledger;
    const own = ledger.append(testKey(30), 'access.decision', { resource: 'door', credential: { kind: 'card', card: testCard('a1') }, allow: false, reason: 'MEMBER_SUSPENDED', member: 'ada', at: ledger.now() });
    expect(own.entry.hlc.wall).toBeLessThan(NOW - 29 * DAY);
    ledger.close();
    const again = track(Ledger.open(path, { site: ledger.site, now: () => NOW - 30 * DAY, durability: 'process' }));
    expect(tap(again, again.now())).toMatchObject({ allow: false, reason: 'MEMBER_SUSPENDED' });
    const next = again.append(testKey(30), 'access.decision', { resource: 'door', credential: { kind: 'card', card: testCard('a1') }, allow: false, reason: 'MEMBER_SUSPENDED', member: 'ada', at: again.now() });
    expect(next.entry.hlc.wall).toBeLessThan(NOW - 29 * DAY);
  });

  it("an enrolled coordinator's verified stamp raises now (kept across a reopen); a forged one does not", () => {
    const { site, A, ledger, at } = lagging();
    const coord = new RawFeed(testKey(50), site.site, () => ({ wall: NOW, logical: 0 }));
    ledger.ingest([lineOf(A.write('node.enrol', { node: coord.id, name: 'coordinator', role: 'coordinator', resources: [] }))]);
    const forged = new RawFeed(testKey(50), site.site, () => ({ wall: NOW + 10 * DAY, logical: 0 })).write('access.decision', { resource: 'door', credential: { kind: 'card', card: testCard('a1') }, allow: true, reason: 'ALLOWED', member: 'ada', at: NOW });
    expect(ledger.ingest([forged.line.replace(/"sig":"[0-9a-f]{8}/, '"sig":"00000000')]).accepted).toBe(0);
    expect(ledger.now()).toBe(NOW - 30 * DAY);

    const head = coord.write('access.decision', { resource: 'door', credential: { kind: 'card', card: testCard('a1') }, allow: true, reason: 'ALLOWED', member: 'ada', at: NOW });
    expect(ledger.ingest([head.line])).toMatchObject({ accepted: 1, rejected: [] });
    expect(ledger.now()).toBe(NOW);
    // Far-future is now measured from NOW: an admin's ordinary entry signed today is accepted.
    at(NOW);
    expect(ledger.ingest([lineOf(A.write('member.put', memberBody('bob')))])).toMatchObject({ accepted: 1, rejected: [] });
    expect(ledger.member('bob')).toBeDefined();
    const { path } = ledger;
    ledger.close();
    const again = track(Ledger.open(path, { site: ledger.site, now: () => NOW - 30 * DAY, durability: 'process' }));
    expect(again.now()).toBe(NOW);
    const own = again.append(testKey(30), 'access.decision', { resource: 'door', credential: { kind: 'card', card: testCard('a1') }, allow: true, reason: 'ALLOWED', member: 'ada', at: again.now() });
    // The HLC runs on the wall clock: verified time decides and admits, never drags own stamps.
    expect(own.entry.hlc.wall).toBeLessThan(NOW - 29 * DAY);
    expect((own.entry.body as { at: number }).at).toBe(NOW);
  });

  it("a coordinator's stamp more than a year past now is not believed: refused, now unchanged", () => {
    const { site, A, ledger } = lagging();
    const coord = new RawFeed(testKey(52), site.site, () => ({ wall: NOW + 2 * 365 * DAY, logical: 0 }));
    ledger.ingest([lineOf(A.write('node.enrol', { node: coord.id, name: 'coordinator', role: 'coordinator', resources: [] }))]);
    const r = ledger.ingest([coord.write('access.decision', { resource: 'door', credential: { kind: 'card', card: testCard('a1') }, allow: true, reason: 'ALLOWED', member: 'ada', at: NOW }).line]);
    expect(r.rejected.map((x) => x.code)).toEqual(['CLOCK_AHEAD']);
    expect(ledger.now()).toBe(NOW - 30 * DAY);
  });

  it('a retired coordinator says nothing about the time: its stamp ahead of now is refused', () => {
    const { site, A, ledger } = lagging();
    const coord = new RawFeed(testKey(51), site.site, () => ({ wall: NOW, logical: 0 }));
    ledger.ingest([lineOf(A.write('node.enrol', { node: coord.id, name: 'old-coordinator', role: 'coordinator', resources: [] })), lineOf(A.write('node.retire', { node: coord.id, lastSeq: 0, reason: 'disk lost' }))]);
    const r = ledger.ingest([coord.write('access.decision', { resource: 'door', credential: { kind: 'card', card: testCard('a1') }, allow: true, reason: 'ALLOWED', member: 'ada', at: NOW }).line]);
    expect(r.rejected.map((x) => x.code)).toEqual(['CLOCK_AHEAD']);
    expect(ledger.now()).toBe(NOW - 30 * DAY);
  });

  it('a far-future entry from a key with no authority is refused and moves nothing; a far-future restrictive one is stored but not absorbed', () => {
    const { site, A, ledger } = lagging();
    const before = ledger.now();
    const outsider = new RawFeed(testKey(40), site.site, () => ({ wall: NOW + 365 * DAY, logical: 0 }));
    const r = ledger.ingest([outsider.write('member.put', memberBody('mallory')).line]);
    expect(r.rejected.map((x) => x.code)).toEqual(['CLOCK_AHEAD']);
    expect(ledger.now()).toBe(before);
    // An admin's unbinding stamped a year ahead: obeyed, and the clock stays where it was.
    const far = new RawFeed(A.key, site.site, () => ({ wall: NOW + 365 * DAY, logical: 0 })).after(5, ledger.policy.headHashes(`card/${testCard('a1')}`)[0]!);
    expect(ledger.ingest([far.write('card.unbind', { card: testCard('a1'), reason: 'lost' }, { deps: ledger.policy.headHashes(`card/${testCard('a1')}`) }).line])).toMatchObject({ accepted: 1, rejected: [] });
    expect(tap(ledger, ledger.now())).toMatchObject({ allow: false });
    expect(ledger.now()).toBe(before);
    const own = ledger.append(testKey(30), 'access.decision', { resource: 'door', credential: { kind: 'card', card: testCard('a1') }, allow: false, reason: 'CARD_UNBOUND', member: null, at: before });
    expect(own.entry.hlc.wall).toBeLessThan(NOW);
    const { path } = ledger;
    ledger.close();
    const again = track(Ledger.open(path, { site: ledger.site, now: () => NOW - 30 * DAY, durability: 'process' }));
    expect(again.append(testKey(30), 'access.decision', { resource: 'door', credential: { kind: 'card', card: testCard('a1') }, allow: false, reason: 'CARD_UNBOUND', member: null, at: before }).entry.hlc.wall).toBeLessThan(NOW);
    expect(again.verify()).toEqual([]);
  });
});
