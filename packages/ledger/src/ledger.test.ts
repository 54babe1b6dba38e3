import { describe, it, expect, afterAll } from '@jest/globals';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PolicyState, decide, entryHash, signEntry, type AnyEntry } from '@keymesh/protocol';
import { TestSite, memberBody, shuffled, testKey, testCard } from '@keymesh/testkit/site';
import { foundedLedger, populate } from '@keymesh/testkit/ledger-fixtures';
import { Ledger } from './ledger.js';
import { tempDir, tempLedger } from '@keymesh/testkit/temp-ledger';

const NOW = 1_700_000_000_000;
const opened: Ledger[] = [];
const track = (l: Ledger) => (opened.push(l), l);
afterAll(() => opened.forEach((l) => l.close()));

const founded = () => foundedLedger(NOW, opened);

describe('append', () => {
  it('assigns seq, prev and deps, signs, stores and updates state in one go', () => {
    const { ledger, admin } = founded();
    populate(ledger, admin.key);
    const { entry } = ledger.append(admin.key, 'member.put', memberBody('ada', { status: 'suspended' }));
    expect(entry).toMatchObject({ seq: 7, author: admin.id, type: 'member.put' });
    expect(entry.deps).toHaveLength(1); // the previous member/ada head
    expect(ledger.heads()).toEqual({ [admin.id]: 7 });
    expect(ledger.memberByCard(testCard('a1')).member).toMatchObject({ member: 'ada', status: 'suspended' });
    expect(decide(ledger.policy, { kind: 'card', card: testCard('a1') }, 'door', NOW, { node: testKey(30).publicKey })).toMatchObject({ allow: false, reason: 'MEMBER_SUSPENDED' });
    expect(ledger.read(admin.id, 6, 10).map((e) => e.seq)).toEqual([6, 7]);
    expect(ledger.findByHash(entry.deps[0]!)?.seq).toBe(5); // genesis, door, laser, node, ada
  });

  it('refuses an invalid body with a clear error and writes nothing', () => {
    const { ledger, admin } = founded();
    const before = ledger.digest();
    expect(() => ledger.append(admin.key, 'member.put', { ...memberBody('x'), status: 'gone' } as never)).toThrow(expect.objectContaining({ code: 'BAD_ENTRY', details: expect.objectContaining({ paths: ['body.status'] }) }));
    expect(ledger.heads()).toEqual({ [admin.id]: 1 });
    expect(ledger.digest()).toBe(before);
    ledger.append(admin.key, 'member.put', memberBody('x'));
    expect(ledger.heads()).toEqual({ [admin.id]: 2 });
  });

  it('survives reopening: same heads, digest and materialised state; the clock does not go back', () => {
    const { site, ledger, admin } = founded();
    populate(ledger, admin.key);
    const { path } = ledger;
    const digest = ledger.digest();
    const table = ledger.materialised();
    ledger.close();
    const again = track(Ledger.open(path, { site: site.site, now: () => NOW - 86_400_000 }));
    expect(again.digest()).toBe(digest);
    expect(again.materialised()).toEqual(table);
    const { entry } = again.append(admin.key, 'member.put', memberBody('bob'));
    expect(entry.hlc.wall).toBeGreaterThanOrEqual(NOW);
  });
});

describe('ingest', () => {
  it('accepts entries in any order; those whose predecessor is missing wait, then apply', () => {
    const { site, ledger, admin } = founded();
    populate(ledger, admin.key);
    const all = [...ledger.iterateEncoded()];
    const other = track(tempLedger(site.site));
    const late = all.slice(0, 3);
    const early = all.slice(3);
    expect(other.ingest(shuffled(early, 1))).toMatchObject({ accepted: 0, waiting: early.length, rejected: [] });
    expect(other.heads()).toEqual({});
    expect(other.ingest([...late, ...late])).toMatchObject({ accepted: all.length, duplicates: 3, rejected: [] });
    expect(other.digest()).toBe(ledger.digest());
    expect(other.materialised()).toEqual(ledger.materialised());
  });

  it('rejects a changed byte with its reason, keeps it in quarantine, and changes nothing', () => {
    const { site, ledger, admin } = founded();
    populate(ledger, admin.key);
    const all = [...ledger.iterateEncoded()];
    const other = track(tempLedger(site.site));
    other.ingest(all.slice(0, 4));
    const digest = other.digest();
    const victim = all[4]!;
    const i = victim.indexOf('"name":"ada"') + 9;
    const forged = victim.slice(0, i) + 'E' + victim.slice(i + 1);
    const r = other.ingest([forged]);
    expect(r.rejected).toEqual([expect.objectContaining({ code: 'BAD_SIGNATURE', seq: 5, author: admin.id })]);
    expect(other.digest()).toBe(digest);
    expect(other.quarantined()[0]).toMatchObject({ code: 'BAD_SIGNATURE', seq: 5 });
    expect(other.ingest(['{"not":"an entry"}']).rejected[0]).toMatchObject({ code: 'SCHEMA' });
    expect(other.ingest([victim.replace('{', '{ ')]).rejected[0]).toMatchObject({ code: 'NOT_CANONICAL_BYTES' });
    expect(other.alarms().map((a) => a.kind)).toContain('quarantine');
    expect(other.ingest([victim])).toMatchObject({ accepted: 1 });
  });

  it('refuses entries of another site and entries stamped far in the future', () => {
    const { site, ledger } = founded();
    const elsewhere = new TestSite({ name: 'Other' });
    expect(ledger.ingest([elsewhere.genesis]).rejected[0]).toMatchObject({ code: 'WRONG_SITE' });
    const x = testKey(5);
    const { entry } = signEntry(x, { site: site.site, seq: 1, prev: null, hlc: { wall: NOW + 86_400_000, logical: 0 }, type: 'member.put', deps: [], body: memberBody('z') });
    expect(ledger.ingest([entry]).rejected[0]).toMatchObject({ code: 'CLOCK_AHEAD' });
  });

  it('keeps both sides of a fork as proof, raises an alarm and stops trusting the feed from there', () => {
    const { site, ledger, admin } = founded();
    populate(ledger, admin.key);
    const head = ledger.read(admin.id, 6, 1)[0]!;
    const twin = signEntry(admin.key, { site: site.site, seq: head.seq, prev: head.prev, hlc: head.hlc, type: 'member.put', deps: [], body: memberBody('mallory') }).entry;
    const r = ledger.ingest([twin]);
    expect(r.forks).toEqual([{ author: admin.id, seq: 6 }]);
    expect(ledger.forks()[0]).toMatchObject({ author: admin.id, seq: 6 });
    expect(ledger.alarms().map((a) => a.kind)).toContain('fork');
    expect(ledger.member('mallory')).toBeUndefined();
    expect(() => ledger.append(admin.key, 'member.put', memberBody('bob'))).toThrow(expect.objectContaining({ code: 'SELF_FORK' }));
    // A forged "fork" (bad signature) proves nothing and is refused.
    const { site: s2, ledger: l2, admin: a2 } = founded();
    populate(l2, a2.key);
    const h2 = l2.read(a2.id, 6, 1)[0]!;
    const fake = { ...signEntry(testKey(9), { site: s2.site, seq: 6, prev: h2.prev, hlc: h2.hlc, type: 'member.put', deps: [], body: memberBody('x') }).entry, author: a2.id };
    expect(l2.ingest([fake]).rejected[0]).toMatchObject({ code: 'BAD_SIGNATURE' });
    expect(l2.forks()).toEqual([]);
  });

  it('a fork inside a feed of access events: both kept as proof, later events stop counting, and so after reopening', () => {
    const { site, ledger, admin } = founded();
    populate(ledger, admin.key);
    const node = testKey(30); // enrolled for the door
    const decision = (i: number, member: string) => ({ resource: 'door', credential: { kind: 'card' as const, card: testCard('a1') }, allow: true, reason: 'ALLOWED' as const, member, at: NOW + i * 1000 });
    for (let i = 1; i <= 5; i++) ledger.append(node, 'access.decision', decision(i, 'ada'));
    const third = ledger.read(node.publicKey, 3, 1)[0]!;
    const twin = signEntry(node, { site: site.site, seq: 3, prev: third.prev, hlc: third.hlc, type: 'access.decision', deps: [], body: decision(3, 'mallory') });
    expect(ledger.ingest([twin.entry]).forks).toEqual([{ author: node.publicKey, seq: 3 }]);
    const forks = ledger.forks();
    expect(forks).toEqual([{ author: node.publicKey, seq: 3, hashes: [entryHash(third), twin.hash].sort(), resolved: false }]);
    expect(ledger.accessLog().rows.map((r) => r.seq)).toEqual([2, 1]); // seq 3 on: not trusted
    const all = [...ledger.iterateEncoded()].map((j) => JSON.parse(j) as AnyEntry);
    const full = PolicyState.from(site.site, [...all, twin.entry]);
    expect(ledger.digest()).toBe(full.digest());
    expect(ledger.forks()).toEqual(full.forks());
    const { path } = ledger;
    ledger.close();
    const again = track(Ledger.open(path, { site: site.site, now: () => NOW }));
    expect(again.forks()).toEqual(forks);
    expect(again.digest()).toBe(full.digest());
    expect(again.accessLog().rows.map((r) => r.seq)).toEqual([2, 1]);
    expect(() => again.append(node, 'access.decision', decision(6, 'ada'))).toThrow(expect.objectContaining({ code: 'SELF_FORK' }));
  });

  it('a forged copy arriving beside the genuine entry neither displaces it nor passes as a fork', () => {
    const { site, ledger, admin } = founded();
    populate(ledger, admin.key);
    const all = [...ledger.iterateEncoded()];
    const at = all[4]!.indexOf('"name":"ada"') + 9;
    const forged = all[4]!.slice(0, at) + 'E' + all[4]!.slice(at + 1);
    for (const order of [[forged, all[4]!], [all[4]!, forged]]) {
      const other = track(tempLedger(site.site));
      const r = other.ingest([all[0]!, all[1]!, all[2]!, ...order, all[5]!, all[3]!]);
      expect(r).toMatchObject({ accepted: 6, forks: [], rejected: [expect.objectContaining({ code: 'BAD_SIGNATURE', seq: 5 })] });
      expect(other.digest()).toBe(ledger.digest());
      expect(other.forks()).toEqual([]);
      expect(other.append(admin.key, 'member.put', memberBody('bob')).entry.seq).toBe(7);
    }
  });
});

describe('restore from an old backup', () => {
  it('refuses to append while a signed entry proves its own feed ahead (a peer\'s claim does not), and resumes after catching up', () => {
    const { site, ledger, admin } = founded();
    const dir = tempDir();
    populate(ledger, admin.key); // seq 2..6
    const backup = join(dir, 'backup.db');
    ledger.close();
    copyFileSync(ledger.path, backup);
    const live = track(Ledger.open(ledger.path, { site: site.site, now: () => NOW }));
    live.append(admin.key, 'member.put', memberBody('bob')); // seq 7
    live.append(admin.key, 'card.bind', { card: testCard('b1'), member: 'bob' }); // seq 8
    const peer = track(tempLedger(site.site));
    peer.ingest([...live.iterateEncoded()]);

    const restored = track(Ledger.open(backup, { site: site.site, now: () => NOW }));
    // A peer's heads say its own feed reached seq 8: an unsigned claim, not evidence (DESIGN §3).
    restored.noteRemoteHeads('peer', peer.heads());
    expect(restored.ownFeedBehind(admin.id)).toBeNull();
    // Its signed seq 8 (seq 7 lost on the way) is: appending now would fork the feed.
    restored.ingest(peer.read(admin.id, 8, 1));
    expect(restored.ownFeedBehind(admin.id)).toEqual({ local: 6, remote: 8 });
    expect(() => restored.append(admin.key, 'member.put', memberBody('carol'))).toThrow(expect.objectContaining({ code: 'SELF_FEED_BEHIND' }));
    expect(restored.heads()[admin.id]).toBe(6);
    restored.ingest(peer.read(admin.id, 7, 10));
    expect(restored.ownFeedBehind(admin.id)).toBeNull();
    expect(restored.append(admin.key, 'member.put', memberBody('carol')).entry.seq).toBe(9);
  });

  it('an entry of its own feed arriving ahead of its head also blocks appends until the gap fills', () => {
    const { site, ledger, admin } = founded();
    populate(ledger, admin.key);
    const all = ledger.read(admin.id, 1, 100);
    const restored = track(tempLedger(site.site));
    restored.ingest(all.slice(0, 3));
    restored.ingest([all[5]!]);
    expect(() => restored.append(admin.key, 'member.put', memberBody('z'))).toThrow(expect.objectContaining({ code: 'SELF_FEED_BEHIND' }));
    restored.ingest(all.slice(3, 5));
    expect(restored.append(admin.key, 'member.put', memberBody('z')).entry.seq).toBe(7);
  });
});

describe('queries', () => {
  it('pages the access log, filtered by member, resource and time, listing only trusted events', () => {
    const { site, ledger, admin } = founded();
    populate(ledger, admin.key);
    const node = testKey(30);
    const rogue = testKey(31);
    const nodeLedgerEntries: AnyEntry[] = [];
    let prev: string | null = null;
    for (let i = 0; i < 25; i++) {
      const { entry, hash }: { entry: AnyEntry; hash: string } = signEntry(node, { site: site.site, seq: i + 1, prev, hlc: { wall: NOW + i, logical: 0 }, type: 'access.decision', deps: [],
        body: { resource: i % 5 === 0 ? 'laser' : 'door', credential: { kind: 'card', card: testCard('a1') }, allow: i % 2 === 0, reason: 'ALLOWED', member: i % 3 === 0 ? 'bob' : 'ada', at: NOW + i * 1000 } });
      nodeLedgerEntries.push(entry as AnyEntry);
      prev = hash;
    }
    const r = signEntry(rogue, { site: site.site, seq: 1, prev: null, hlc: { wall: NOW, logical: 0 }, type: 'access.decision', deps: [],
      body: { resource: 'door', credential: { kind: 'card', card: testCard('a1') }, allow: true, reason: 'ALLOWED', member: 'ada', at: NOW + 5 } });
    ledger.ingest([...nodeLedgerEntries, r.entry]);
    // The node is enrolled for the door only: its laser events (seq 1, 6, 11, 16, 21) and the
    // rogue's do not count.
    const all: number[] = [];
    let cursor: string | undefined;
    do {
      const page = ledger.accessLog({ limit: 4, ...(cursor ? { before: cursor } : {}) });
      all.push(...page.rows.map((x) => x.seq));
      expect(page.rows.every((x) => x.author === node.publicKey && x.resource === 'door')).toBe(true);
      cursor = page.next ?? undefined;
    } while (cursor);
    expect(all).toEqual([25, 24, 23, 22, 20, 19, 18, 17, 15, 14, 13, 12, 10, 9, 8, 7, 5, 4, 3, 2]);
    expect(ledger.accessLog({ member: 'bob', limit: 100 }).rows.map((x) => x.seq)).toEqual([25, 22, 19, 13, 10, 7, 4]);
    expect(ledger.accessLog({ from: NOW + 10_000, to: NOW + 13_000 }).rows.map((x) => x.seq)).toEqual([13, 12]);
    expect(ledger.accessLog({ resource: 'laser' }).rows).toEqual([]);
    expect(ledger.accessLog({ limit: 1 }).rows[0]).toMatchObject({ seq: 25, member: 'bob', allow: true, detail: { credential: { kind: 'card', card: testCard('a1') }, reason: 'ALLOWED' } });
  });

  it('events not yet in the batched member and resource indexes are found again after a crash, and listed read-only too', () => {
    const { site, ledger, admin } = founded();
    populate(ledger, admin.key);
    const node = testKey(30); // enrolled for the door
    for (let i = 1; i <= 10; i++) {
      ledger.append(node, 'access.decision', { resource: 'door', credential: { kind: 'card', card: testCard('a1') }, allow: true, reason: 'ALLOWED', member: i % 2 ? 'ada' : 'bob', at: NOW + i * 1000 });
    }
    ledger.flush();
    // The file as a crash would leave it: the ten events committed, none in the batched indexes yet.
    const crashed = join(tempDir(), 'crashed.db');
    copyFileSync(ledger.path, crashed);
    copyFileSync(`${ledger.path}-wal`, `${crashed}-wal`);
    const raw = new Database(crashed);
    expect(raw.prepare('SELECT count(*) AS n FROM events_by_member').get()).toEqual({ n: 0 });
    raw.close();
    const ro = track(Ledger.open(crashed, { site: site.site, readonly: true }));
    expect(ro.accessLog({ member: 'ada' }).rows.map((r) => r.seq)).toEqual([9, 7, 5, 3, 1]);
    expect(ro.accessLog({ resource: 'door', limit: 3 }).rows.map((r) => r.seq)).toEqual([10, 9, 8]);
    ro.close();
    const again = track(Ledger.open(crashed, { site: site.site }));
    expect(again.accessLog({ member: 'bob' }).rows.map((r) => r.seq)).toEqual([10, 8, 6, 4, 2]);
    expect(again.accessLog({ member: 'ada', resource: 'door', before: again.accessLog({ member: 'ada', limit: 2 }).next! }).rows.map((r) => r.seq)).toEqual([5, 3, 1]);
    again.close();
    const check = new Database(crashed, { readonly: true });
    expect(check.prepare('SELECT count(*) AS n FROM events_by_member').get()).toEqual({ n: 10 });
    expect(check.prepare('SELECT seq FROM events_indexed x JOIN feeds f ON f.id = x.feed WHERE f.author = ?').get(node.publicKey)).toEqual({ seq: 10 });
    check.close();
  });

  it('answers member by card, certifications, resources, conflicts and sync lag', () => {
    const { ledger, admin } = founded();
    populate(ledger, admin.key);
    ledger.append(admin.key, 'cert.grant', { member: 'ada', cert: 'laser', grantedBy: null, note: '' });
    expect(ledger.memberByCard(testCard('a1'))).toMatchObject({ card: { state: 'bound', member: 'ada' }, member: { member: 'ada' } });
    expect(ledger.memberByCard(testCard('zz'))).toEqual({ card: undefined, member: undefined });
    expect(ledger.certifications('ada')).toEqual([{ member: 'ada', cert: 'laser', granted: true, by: null }]);
    expect(ledger.resources().map((r) => r.resource)).toEqual(['door', 'laser']);
    expect(ledger.nodes()).toHaveLength(1);
    expect(ledger.conflicts()).toEqual([]);
    ledger.noteRemoteHeads('peer', { [admin.id]: 12, ['c'.repeat(64)]: 3 });
    expect(ledger.syncLag()).toEqual({ peer: 12 - 7 + 3 });
  });

  it('the materialised state agrees with the protocol reducer over the same entries', () => {
    const { site, ledger, admin } = founded();
    populate(ledger, admin.key);
    const fresh = PolicyState.from(site.site, ledger.read(admin.id, 1, 100));
    expect(ledger.digest()).toBe(fresh.digest());
  });
});
