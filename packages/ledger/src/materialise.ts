/**
 * The policy state in memory and its materialised values in the `policy` table (DESIGN §5),
 * and the time the trusted coordinators vouch for, which moves with them (DESIGN §10).
 */
import { PolicyState, canonicalString, isEventType, isKnownEntry, policyKeyOf, toHex, type AnyEntry } from '@keymesh/protocol';
import { entryIdSql } from './migrations.js';
import { write, type LedgerCore } from './core.js';
import { eventRefs, indexEvents, recordEvent } from './access-log.js';

/**
 * The in-memory state holds the policy entries; access events stay in the file (events table),
 * read when the digest needs them: a node keeps every decision it ever made, and holding each in
 * memory cost a Pi memory and every append GC time (~9 % of an append, bench/RESULTS.md).
 */
export function loadState(l: LedgerCore): PolicyState {
  const s = new PolicyState(l.site, l.crypto, { events: () => eventRefs(l) });
  // In file order (found through the policy entries' h8 index, then read by rowid): read in
  // the index's hash order, a cold page cache paid a random read per entry (~3x slower). With
  // SQLite's default page cache meanwhile: pages read once need not fill the 32 MiB one
  // (~15 MB of RSS at 25,000 rules). Entries share their site and author strings (~4 MB).
  const cacheSize = l.db.pragma('cache_size', { simple: true }) as number;
  l.db.pragma('cache_size = -2000');
  try {
    const authors = new Map<string, string>();
    const lastHash = new Map<string, string>(); // author → hash of its last rule read: the next one's prev
    for (const row of l.db.prepare('SELECT hash, json FROM entries WHERE id IN (SELECT id FROM entries WHERE pkey IS NOT NULL) ORDER BY id').iterate() as Iterable<{ hash: Buffer; json: string }>) {
      const e = JSON.parse(row.json) as AnyEntry;
      if (e.site === l.site) e.site = l.site;
      const author = authors.get(e.author);
      if (author === undefined) authors.set(e.author, e.author);
      else e.author = author;
      const hash = row.hash.toString('hex');
      if (e.prev !== null && e.prev === lastHash.get(e.author)) e.prev = lastHash.get(e.author)!;
      lastHash.set(e.author, hash);
      s.add(e, hash);
    }
  } finally {
    l.db.pragma(`cache_size = ${cacheSize}`);
  }
  const originalAt = l.db.prepare(`SELECT e.hash FROM feeds f JOIN entries e ON e.id = ${entryIdSql('f.id', '?')} WHERE f.author = ?`);
  for (const row of l.db.prepare('SELECT author, seq, hash, json FROM forks').iterate() as Iterable<{ author: string; seq: number; hash: Buffer; json: string }>) {
    const original = originalAt.get(row.seq, row.author) as { hash: Buffer } | undefined;
    noteFork(s, JSON.parse(row.json) as AnyEntry, row.hash, original?.hash);
  }
  return s;
}

/** A second entry at a stored (author, seq): kept as proof; from there on the feed is not trusted. */
export function noteFork(s: PolicyState, entry: AnyEntry, hash: Uint8Array, original: Uint8Array | undefined): void {
  if (policyKeyOf(entry) && isKnownEntry(entry)) s.add(entry, toHex(hash)); // an entry of a newer version stays out
  s.noteSeqs(entry.author, entry.seq, original ? [toHex(original), toHex(hash)] : [toHex(hash)]);
}

/** Is `author` an enrolled, unretired coordinator (whose stamps say what time it is)? */
export function isCoordinator(l: LedgerCore, author: string, seq: number): boolean {
  return l.state.trustedNode(author, seq)?.role === 'coordinator' && !l.state.isForkedOut(author, seq);
}

/**
 * The newest time vouched for by the coordinators this node trusts: the stamp of each one's
 * newest entry it is trusted for (a feed's stamps only grow), read from the entry itself.
 */
export function coordinatorTime(l: LedgerCore): number {
  let time = 0;
  for (const key of l.state.keys('node/')) {
    const author = key.slice('node/'.length);
    const n = l.state.node(author);
    const feed = l.feeds.get(author);
    if (n?.role !== 'coordinator' || !feed) continue;
    let upTo = feed.seq;
    if (n.retired) upTo = Math.min(upTo, n.lastSeq ?? 0);
    const fork = l.state.forks().find((f) => f.author === author);
    if (fork) upTo = Math.min(upTo, fork.seq - 1);
    if (upTo < 1) continue;
    const row = l.stmt.entryAt.get(feed.id, upTo) as { json: string } | undefined;
    if (row) time = Math.max(time, (JSON.parse(row.json) as AnyEntry).hlc.wall);
  }
  return time;
}

/**
 * Writes the values of the policy keys an entry can have changed (DESIGN §5: only what it
 * changed): the keys touched and those whose authority they grant, from the state's reverse
 * index (`dependents`: a trainer's record → the certifications it signed, a node → its panel's,
 * …). With 5,000 members and 15,000 certifications, rewriting every certification on each
 * `member.put` took a median 164 ms (issue 10, finding 14). The admin set or a fork can change
 * everything, so those rewrite every key.
 */
export function materialise(l: LedgerCore, touched: Set<string>, everything = false): string[] {
  if (touched.size === 0 && !everything) return [];
  const written: string[] = [];
  // A coordinator enrolled, retired or forked: the time it vouches for changes with it.
  if (everything || touched.has('admins') || [...touched].some((k) => k.startsWith('node/'))) l.time.recompute(coordinatorTime(l));
  const keys: Iterable<string> = everything || touched.has('admins') ? l.state.keys() : l.state.dependents(touched);
  for (const k of keys) {
    written.push(k);
    const value = l.state.valueOf(k);
    if (value === undefined) l.stmt.deletePolicy.run(k);
    else l.stmt.upsertPolicy.run(k, canonicalString(value), canonicalString(l.state.headHashes(k)));
  }
  if (everything || touched.has('admins')) {
    // keys whose every entry lost its authority
    const live = new Set(l.state.keys());
    for (const row of l.db.prepare('SELECT pkey FROM policy').all() as Array<{ pkey: string }>) {
      if (!live.has(row.pkey) || l.state.valueOf(row.pkey) === undefined) (l.stmt.deletePolicy.run(row.pkey), written.push(row.pkey));
    }
  }
  return written;
}

/**
 * Re-reads the held entries this release understands (after an upgrade): they join the state
 * and the access log as if just received, and leave the `held` table. On open.
 */
export function rereadHeld(l: LedgerCore): void {
  const understood = l.held.rows().map((r) => ({ ...r, entry: JSON.parse(r.json) as AnyEntry })).filter((r) => isKnownEntry(r.entry));
  if (understood.length === 0) return;
  write(l, () => {
    const touched = new Set<string>();
    const setKey = l.db.prepare(`UPDATE entries SET pkey = ? WHERE id = ${entryIdSql('?', '?')}`);
    for (const r of understood) {
      const e = r.entry;
      const pkey = policyKeyOf(e);
      l.held.release(r.feed, r.seq);
      if (pkey) {
        setKey.run(pkey, r.feed, r.seq);
        l.state.add(e, r.hash.toString('hex'));
        touched.add(pkey);
      } else if (isEventType(e.type)) {
        recordEvent(l, r.feed, e);
      }
    }
    materialise(l, touched);
    indexEvents(l);
  });
}
