/** Reading: feed heads, encoded entries and fork proofs (what sync and export send), and queries. */
import { fromHex, type AnyEntry, type CardValue, type Heads, type MemberValue } from '@keymesh/protocol';
import { inFeedSql, SEQ_BITS } from './migrations.js';
import type { Alarm, DurabilityStats, QuarantinedEntry } from './types.js';
import { flush, h8, live, type LedgerCore } from './core.js';

/**
 * Feed heads: author → highest contiguous seq held, up to the key's last seq with authority.
 * Entries past it count for nothing and are held apart when they arrive, but a replica that
 * stored some before it learned of a retirement (or a member key's withdrawal) keeps them:
 * announcing them would make peers that hold them apart ask for them every round. So heads
 * agree and sync goes quiet.
 */
export function heads(l: LedgerCore, durable = true): Heads {
  if (durable) flush(l); // heads are announced to peers: nothing unsynced may be claimed
  const out: Heads = {};
  for (const author of [...l.feeds.keys()].sort()) {
    const seq = trustedHead(l, author, l.feeds.get(author)!.seq);
    if (seq > 0) out[author] = seq;
  }
  return out;
}

/**
 * The highest seq up to `seq` where `author` holds authority (a prefix of its seqs), or 0.
 * Not for an admin's key: its withdrawal may be its own entry past its new `until`, which
 * counts, so its feed is announced whole.
 */
export function trustedHead(l: LedgerCore, author: string, seq: number): number {
  if (seq === 0 || l.state.hasAuthorityAt(author, seq) || l.state.isAdminKey(author, 1)) return seq;
  let [lo, hi] = [0, seq]; // authority at lo (0: none needed), none at hi
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (l.state.hasAuthorityAt(author, mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

export function readEncoded(l: LedgerCore, author: string, fromSeq: number, limit: number): string[] {
  const feed = l.feeds.get(author);
  if (!feed) return [];
  flush(l); // what is read may be published (sync, export): it must survive a power cut
  return (l.stmt.read.all(feed.id, fromSeq, feed.id, limit) as Array<{ json: string }>).map((r) => r.json);
}

export function* iterateEncoded(l: LedgerCore, author?: string): IterableIterator<string> {
  flush(l);
  const rows = author
    ? l.db.prepare(`SELECT e.json FROM feeds f JOIN entries e ON ${inFeedSql('f.id', 'e.id')} WHERE f.author = ? ORDER BY e.id`).iterate(author)
    : l.db.prepare('SELECT json FROM entries ORDER BY id').iterate();
  for (const r of rows as Iterable<{ json: string }>) yield r.json;
}

/**
 * The second (third…) signed entries found at a seq of a feed, as canonical lines: the fork
 * proofs, which the feeds themselves do not hold (their entry at that seq is the one held
 * first). For export, after the feeds; with `at`, only that seq, headed by the feed's own
 * entry there, so a peer holding neither gets both halves of the proof (sync).
 */
export function forkProofs(l: LedgerCore, author?: string, at?: number): string[] {
  flush(l); // proofs leave the ledger like entries do
  const rows = (author === undefined
    ? l.db.prepare('SELECT json FROM forks ORDER BY author, seq, hash').all()
    : at === undefined
      ? l.db.prepare('SELECT json FROM forks WHERE author = ? ORDER BY seq, hash').all(author)
      : l.db.prepare('SELECT json FROM forks WHERE author = ? AND seq = ? ORDER BY hash').all(author, at)) as Array<{ json: string }>;
  const lines = rows.map((r) => r.json);
  if (author !== undefined && at !== undefined && lines.length) lines.unshift(...readEncoded(l, author, at, 1));
  return lines;
}

/**
 * Author → the lowest seq at which this ledger holds a fork of that feed and how many entries
 * it holds there (what a `have` announces, so a peer sends the proofs this replica lacks). At
 * most `limit` authors: those whose keys hold some authority first (their forks change
 * decisions), then by key.
 */
export function forkClaims(l: LedgerCore, limit: number): Record<string, { seq: number; entries: number }> {
  const forks = l.state.forks();
  if (forks.length > limit) {
    const rank = (a: string) => (l.state.hasAuthority(a) ? 0 : 1);
    forks.sort((x, y) => rank(x.author) - rank(y.author) || (x.author < y.author ? -1 : 1));
    forks.length = limit;
  }
  return Object.fromEntries(forks.map((f) => [f.author, { seq: f.seq, entries: f.hashes.length }]));
}

export function findByHash(l: LedgerCore, hash: string): AnyEntry | undefined {
  const bytes = fromHex(hash);
  // Policy entries through the h8 index; access events (not indexed by hash) by a scan.
  const rows = l.db.prepare('SELECT hash, json FROM entries WHERE h8 = ? AND pkey IS NOT NULL').all(h8(bytes)) as Array<{ hash: Buffer; json: string }>;
  const row = rows.find((r) => Buffer.compare(r.hash, bytes) === 0)
    ?? (l.db.prepare('SELECT hash, json FROM entries WHERE hash = ?').get(bytes) as { hash: Buffer; json: string } | undefined);
  return row ? (JSON.parse(row.json) as AnyEntry) : undefined;
}

export function count(l: LedgerCore): number {
  return (l.db.prepare('SELECT count(*) AS n FROM entries').get() as { n: number }).n;
}

/** Materialised values from the `policy` table (what a dashboard reads). */
export function values<V>(l: LedgerCore, prefix: string): V[] {
  return (l.db.prepare('SELECT value FROM policy WHERE pkey >= ? AND pkey < ? ORDER BY pkey').all(prefix, prefix + '\uffff') as Array<{ value: string }>)
    .map((r) => JSON.parse(r.value) as V);
}

export function materialised(l: LedgerCore): Record<string, { value: unknown; heads: string[] }> {
  const out: Record<string, { value: unknown; heads: string[] }> = {};
  for (const r of l.db.prepare('SELECT pkey, value, heads FROM policy ORDER BY pkey').all() as Array<{ pkey: string; value: string; heads: string }>) {
    out[r.pkey] = { value: JSON.parse(r.value), heads: JSON.parse(r.heads) };
  }
  return out;
}

export function quarantined(l: LedgerCore, limit = 100): QuarantinedEntry[] {
  return (l.db.prepare('SELECT id, received_at, last_seen, count, author, seq, code, reason FROM quarantine ORDER BY id DESC LIMIT ?').all(limit) as Array<Record<string, unknown>>)
    .map((r) => ({
      id: r.id as number, receivedAt: r.received_at as number, lastSeen: r.last_seen as number, count: r.count as number,
      author: r.author as string | null, seq: r.seq as number | null, code: r.code as string, reason: r.reason as string,
    }));
}

export function alarms(l: LedgerCore): Alarm[] {
  const out: Alarm[] = [];
  for (const f of l.state.forks()) out.push({ kind: 'fork', message: `feed ${f.author.slice(0, 12)}… forked at seq ${f.seq}: its entries from there on are not trusted until an admin acts`, detail: { ...f } });
  for (const c of l.state.conflicts()) out.push({ kind: 'conflict', message: `${c.key} was changed concurrently; the safe outcome applies until an admin resolves it`, detail: { ...c } });
  const q = (l.db.prepare('SELECT count(*) AS n FROM quarantine').get() as { n: number }).n;
  if (q) out.push({ kind: 'quarantine', message: `${q} received entries were refused; see the quarantine`, detail: { count: q } });
  const held = l.held.byType();
  const n = Object.values(held).reduce((a, b) => a + b, 0);
  if (n) out.push({ kind: 'held', message: `${n} entries are held for a newer version of Keymesh (${Object.keys(held).join(', ')}); upgrade this node to apply them`, detail: { count: n, types: held } });
  return out;
}

export function syncLag(l: LedgerCore): Record<string, number> {
  const rows = l.db.prepare(`
    SELECT p.node AS node, sum(max(p.seq - coalesce((SELECT max(e.id) FROM entries e WHERE ${inFeedSql('f.id', 'e.id')}) & ${2 ** SEQ_BITS - 1}, 0), 0)) AS lag
    FROM peers p LEFT JOIN feeds f ON f.author = p.author GROUP BY p.node ORDER BY p.node`).all() as Array<{ node: string; lag: number }>;
  return Object.fromEntries(rows.map((r) => [r.node, r.lag]));
}

/** The card with reference `card` and the member it is bound to. */
export function memberByCard(l: LedgerCore, card: string): { card: CardValue | undefined; member: MemberValue | undefined } {
  const value = l.state.card(card);
  return { card: value, member: value?.state === 'bound' ? l.state.member(value.member) : undefined };
}

/** Commits, fsyncs, and commits not yet fsynced (group commit figures, for benchmarks and the dashboard). */
export function durabilityStats(l: LedgerCore): DurabilityStats {
  return { durability: l.durability, commits: l.commits, fsyncs: 0, unsynced: 0, checkpoints: 0, ...l.groupCommit?.stats };
}

/** SQLite's `synchronous` level on the ledger's connection. */
/** SQLite's page cache limit on this connection, in KiB (cache_size, set negative: KiB). */
export function sqlitePageCacheKiB(l: LedgerCore): number {
  live(l);
  const n = l.db.pragma('cache_size', { simple: true }) as number;
  return n < 0 ? -n : Math.round((n * (l.db.pragma('page_size', { simple: true }) as number)) / 1024);
}

export function sqliteSynchronous(l: LedgerCore): 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA' {
  live(l);
  return (['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const)[l.db.pragma('synchronous', { simple: true }) as number]!;
}
