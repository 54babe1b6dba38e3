// Ledger.submit (compare-and-set for entries arriving for relay, DESIGN §3) and Ledger.headOf.
import { describe, it, expect, afterAll } from '@jest/globals';
import { encodeEntry, entryHash } from '@keymesh/protocol';
import { TestSite, memberBody, testKey } from '@keymesh/testkit/site';
import { Ledger, type SubmitResult } from './ledger.js';
import { RawFeed } from '@keymesh/testkit/raw-feed';
import { tempDir, tempLedger } from '@keymesh/testkit/temp-ledger';
import { join } from 'node:path';

const T0 = 1_700_000_000_000;
const opened: Ledger[] = [];
const track = (l: Ledger) => (opened.push(l), l);
afterAll(() => opened.forEach((l) => l.close()));

function setup(admins = 1) {
  const site = new TestSite({ now: () => T0, admins });
  const A = site.admins[0]!;
  const ledger = track(tempLedger(site.site, { now: () => T0 }));
  return { site, A, ledger };
}

/** What a refused submit must leave as it was. */
function snapshot(l: Ledger) {
  return { count: l.count(), heads: l.heads(), quarantined: l.quarantined().length, pending: l.pendingStats(), forks: l.forks().length, digest: l.digest() };
}

function refusal(r: SubmitResult): Exclude<SubmitResult, { ok: true }> {
  if (r.ok) throw new Error('expected a refusal');
  return r;
}

describe('Ledger.headOf', () => {
  it('is undefined for an author with no feed here, and the newest entry once there is one', () => {
    const { site, A, ledger } = setup();
    expect(ledger.headOf(A.id)).toBeUndefined();
    ledger.ingest([site.genesis]);
    const e2 = A.write('member.put', memberBody('ada'));
    ledger.ingest([e2]);
    const head = ledger.headOf(A.id)!;
    expect(head.seq).toBe(2);
    expect(head.hash).toBe(entryHash(e2));
    expect(head.line).toBe(encodeEntry(e2));
    expect(head.entry).toEqual(e2);
  });

  it('is the contiguous head: an entry waiting past a gap does not move it', () => {
    const { site, A, ledger } = setup();
    ledger.ingest([site.genesis]);
    A.write('member.put', memberBody('ada'));
    const e3 = A.write('member.put', memberBody('bob'));
    expect(ledger.ingest([e3]).waiting).toBe(1);
    expect(ledger.headOf(A.id)!.seq).toBe(1);
  });
});

describe('Ledger.submit', () => {
  it('accepts the first entry of an empty feed and the next entry after the head', () => {
    const { site, A, ledger } = setup();
    const first = ledger.submit(site.genesis);
    expect(first.ok).toBe(true);
    const e2 = A.write('member.put', memberBody('ada'));
    const r = ledger.submit(encodeEntry(e2));
    expect(r).toEqual({ ok: true, entry: e2, hash: entryHash(e2), line: encodeEntry(e2) });
    expect(ledger.headOf(A.id)!.hash).toBe(entryHash(e2));
    expect(ledger.member('ada')).toBeDefined();
  });

  it('stores what was held waiting for the submitted entry', () => {
    const { site, A, ledger } = setup();
    ledger.ingest([site.genesis]);
    const e2 = A.write('member.put', memberBody('ada'));
    const e3 = A.write('member.put', memberBody('bob'));
    ledger.ingest([e3]);
    expect(ledger.submit(e2).ok).toBe(true);
    expect(ledger.headOf(A.id)!.seq).toBe(3);
    expect(ledger.pendingStats().entries).toBe(0);
  });

  it('refuses an entry past the head (a gap) with the head, storing and holding nothing', () => {
    const { site, A, ledger } = setup();
    ledger.ingest([site.genesis]);
    A.write('member.put', memberBody('ada'));
    const e3 = A.write('member.put', memberBody('bob'));
    const before = snapshot(ledger);
    const r = refusal(ledger.submit(e3));
    expect(r.code).toBe('NOT_HEAD');
    expect(r.code === 'NOT_HEAD' && r.head).toEqual({ seq: 1, hash: site.site, line: encodeEntry(site.genesis), entry: site.genesis });
    expect(snapshot(ledger)).toEqual(before);
  });

  it('refuses a second entry for a seq already held (a fork) without keeping it as proof', () => {
    const { site, A, ledger } = setup();
    ledger.ingest([site.genesis]);
    const held = A.write('member.put', memberBody('ada'));
    ledger.ingest([held]);
    // The same key signing on another device: the same seq, other content.
    const other = site.writer(A.key);
    other.adoptOwn(site.genesis, site.site);
    const rival = other.write('member.put', memberBody('eve'));
    const before = snapshot(ledger);
    const r = refusal(ledger.submit(rival));
    expect(r.code).toBe('NOT_HEAD');
    expect(r.code === 'NOT_HEAD' && r.head?.hash).toBe(entryHash(held));
    expect(snapshot(ledger)).toEqual(before);
    expect(ledger.alarms()).toEqual([]);
  });

  it('refuses an entry at the right seq naming another prev', () => {
    const { site, A, ledger } = setup();
    ledger.ingest([site.genesis]);
    const feed = new RawFeed(A.key, site.site, () => ({ wall: T0, logical: 0 })).after(1, '00'.repeat(32));
    const before = snapshot(ledger);
    const r = refusal(ledger.submit(feed.write('member.put', memberBody('ada')).line));
    expect(r.code).toBe('NOT_HEAD');
    expect(r.code === 'NOT_HEAD' && r.head?.seq).toBe(1);
    expect(snapshot(ledger)).toEqual(before);
  });

  it("refuses an entry naming the head's hash as prev at a later seq", () => {
    const { site, A, ledger } = setup();
    ledger.ingest([site.genesis]);
    const feed = new RawFeed(A.key, site.site, () => ({ wall: T0, logical: 0 })).after(2, site.site);
    const before = snapshot(ledger);
    expect(refusal(ledger.submit(feed.write('member.put', memberBody('ada')).line)).code).toBe('NOT_HEAD');
    expect(snapshot(ledger)).toEqual(before);
  });

  it('refuses a later entry of a feed held nowhere here, with no head', () => {
    const { site, ledger } = setup(2);
    ledger.ingest([site.genesis]);
    const B = site.admins[1]!;
    B.write('member.put', memberBody('ada'));
    const before = snapshot(ledger);
    const r = refusal(ledger.submit(B.write('member.put', memberBody('bob'))));
    expect(r.code).toBe('NOT_HEAD');
    expect(r.code === 'NOT_HEAD' && r.head).toBeUndefined();
    expect(snapshot(ledger)).toEqual(before);
    expect(ledger.headOf(B.id)).toBeUndefined();
  });

  it('refuses a bad signature, storing and quarantining nothing', () => {
    const { site, A, ledger } = setup();
    ledger.ingest([site.genesis]);
    const line = encodeEntry(A.write('member.put', memberBody('ada')));
    const at = line.indexOf('"sig":"') + 7;
    const forged = `${line.slice(0, at)}${line[at] === '0' ? '1' : '0'}${line.slice(at + 1)}`;
    const before = snapshot(ledger);
    expect(refusal(ledger.submit(forged)).code).toBe('BAD_SIGNATURE');
    expect(snapshot(ledger)).toEqual(before);
  });

  it('refuses an entry of a key without authority, holding nothing for later', () => {
    const { site, ledger } = setup();
    ledger.ingest([site.genesis]);
    const stranger = site.writer(testKey(77));
    const before = snapshot(ledger);
    expect(refusal(ledger.submit(stranger.write('member.put', memberBody('ada')))).code).toBe('NO_AUTHORITY');
    expect(snapshot(ledger)).toEqual(before);
    expect(ledger.pendingStats().entries).toBe(0);
  });

  it('refuses an entry of another site', () => {
    const { site, ledger } = setup();
    ledger.ingest([site.genesis]);
    const elsewhere = new TestSite({ now: () => T0, name: 'Elsewhere' });
    const e = elsewhere.admins[0]!.write('member.put', memberBody('ada'));
    const before = snapshot(ledger);
    expect(refusal(ledger.submit(e)).code).toBe('WRONG_SITE');
    expect(snapshot(ledger)).toEqual(before);
  });

  it('refuses bytes that are not an entry, and non-canonical bytes', () => {
    const { site, A, ledger } = setup();
    ledger.ingest([site.genesis]);
    const before = snapshot(ledger);
    expect(refusal(ledger.submit('{"not":')).code).toBe('BAD_JSON');
    expect(refusal(ledger.submit('{"v":1}')).code).toBe('SCHEMA');
    const line = encodeEntry(A.write('member.put', memberBody('ada')));
    expect(refusal(ledger.submit(` ${line}`)).code).toBe('NOT_CANONICAL_BYTES');
    expect(snapshot(ledger)).toEqual(before);
  });

  it("refuses an entry stamped too far ahead of this node's time", () => {
    const { site, A, ledger } = setup();
    ledger.ingest([site.genesis]);
    const feed = new RawFeed(A.key, site.site, () => ({ wall: T0 + 86_400_000, logical: 0 })).after(1, site.site);
    const before = snapshot(ledger);
    expect(refusal(ledger.submit(feed.write('member.put', memberBody('ada')).line)).code).toBe('CLOCK_AHEAD');
    expect(snapshot(ledger)).toEqual(before);
  });

  it('refuses to extend a feed that has forked', () => {
    const { site, A, ledger } = setup();
    const other = site.writer(A.key);
    other.adoptOwn(site.genesis, site.site);
    ledger.ingest([site.genesis, A.write('member.put', memberBody('ada')), other.write('member.put', memberBody('eve'))]);
    expect(ledger.forks()).toHaveLength(1);
    const before = snapshot(ledger);
    expect(refusal(ledger.submit(A.write('member.put', memberBody('bob')))).code).toBe('FEED_FORKED');
    expect(snapshot(ledger)).toEqual(before);
  });

  it('throws LEDGER_READONLY on a ledger opened read-only', () => {
    const { site, A } = setup();
    const dir = tempDir();
    const path = join(dir, 'ro.db');
    Ledger.open(path, { site: site.site, durability: 'process', now: () => T0 }).close();
    const ro = track(Ledger.open(path, { site: site.site, readonly: true, now: () => T0 }));
    expect(() => ro.submit(site.genesis)).toThrow(expect.objectContaining({ code: 'LEDGER_READONLY' }) as never);
    expect(ro.headOf(A.id)).toBeUndefined();
  });
});
