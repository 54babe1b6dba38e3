/**
 * The ledger's internals, shared by the files that do its jobs (append.ts, ingest.ts,
 * access-log.ts, …): one object per open file, passed to their functions. Also here: the
 * transaction wrapper and the cached feed heads, which every write path uses.
 */
import type Database from 'better-sqlite3';
import { toHex, type AnyEntry, type CryptoProvider, type HybridClock, type PolicyState } from '@keymesh/protocol';
import { LedgerError, type RejectCode } from './errors.js';
import { inFeedSql, MAX_FEED_ID } from './migrations.js';
import type { GroupCommit } from './group-commit.js';
import type { NodeTime } from './node-time.js';
import type { HeldEntries } from './held.js';
import type { Pending } from './pending.js';
import type { Quarantine, QuarantineRow } from './quarantine.js';
import type { Statements } from './statements.js';
import { emptyIngestResult, type Durability, type IngestResult } from './types.js';

export type Reject = (raw: string, author: string | null, seq: number | null, code: RejectCode, reason: string) => void;

export interface IngestContext {
  result: IngestResult;
  quarantine: QuarantineRow[];
  forkRows: Array<{ p: Parsed; original: Uint8Array }>;
  touched: Set<string>;
  everything: boolean;
  receivedAt: number;
  reject: Reject;
}

export interface Parsed {
  entry: AnyEntry;
  json: string;
  hash: Uint8Array;
  /** False: a type or body this release does not understand (held for a newer version); unset: not yet checked. */
  known?: boolean;
}

/** Events an append leaves for the next batch of the access log's member and resource indexes. */
export const INDEX_BATCH = 256;
export type UnindexedEvent = { feed: number; seq: number; member: string | null; resource: string; at: number };

/** Policy keys that can give a key authority (PolicyState.hasAuthority). */
export const grantsAuthority = (k: string): boolean => k === 'admins' || k.startsWith('member/') || k.startsWith('node/');

export const h8 = (hash: Uint8Array): bigint => Buffer.from(hash.buffer, hash.byteOffset, 8).readBigInt64BE(0);

export function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v).slice(0, 65536);
  } catch {
    return String(v).slice(0, 1000);
  }
}

export interface Feed { id: number; seq: number; hash: string }

/** What one ingest (or the drain after an append) collects until its transaction ends. */
export function ingestContext(l: LedgerCore): IngestContext {
  const ctx: IngestContext = {
    result: emptyIngestResult(),
    quarantine: [],
    forkRows: [],
    touched: new Set(),
    everything: false,
    receivedAt: l.time.now(),
    reject: (raw, author, seq, code, reason) => {
      ctx.result.rejected.push({ author, seq, code, reason });
      ctx.quarantine.push({ author, seq, code, reason, raw });
    },
  };
  return ctx;
}

export interface LedgerCore {
  readonly site: string;
  readonly path: string;
  readonly readonly: boolean;
  readonly crypto: CryptoProvider;
  readonly db: Database.Database;
  /** `now` (floor-aware) and the hybrid logical clock: see node-time.ts. */
  readonly time: NodeTime;
  readonly clock: HybridClock;
  /** Entries stored for a newer version: see held.ts. */
  readonly held: HeldEntries;
  state: PolicyState;
  /** author → feed id and head; the `feeds` table, cached (reloaded if a transaction fails). */
  feeds: Map<string, Feed>;
  /**
   * Stored access events not yet in events_by_member / events_by_resource (schema 4): written
   * there every INDEX_BATCH appends, at the end of every ingest, before a query that needs them,
   * and on close. Rebuilt from the file if a transaction fails, and on open.
   */
  unindexed: UnindexedEvent[];
  closed: boolean;
  readonly stmt: Statements;
  readonly durability: Durability;
  /** Set in 'group' mode (a file, not read-only): see group-commit.ts. */
  readonly groupCommit: GroupCommit | undefined;
  commits: number;
  /** Own feeds that passed assertOwnFeedWritable since pending, forks or peers last changed. */
  readonly writableFeeds: Set<string>;
  /** Feeds whose head moved since their feeds_checked mark was written (see checkOnOpen). */
  readonly unmarked: Set<string>;
  /** author → the feeds_checked mark last written (or found on open). */
  readonly marked: Map<string, number>;
  /** Entries held for later: ahead of a gap, or of keys without authority (pending.ts). */
  readonly pending: Pending;
  readonly quarantine: Quarantine;
  readonly inTransaction: (fn: () => unknown) => unknown;
  /**
   * Rebuilds the caches and the state from the file, after a failed transaction. Set by
   * whoever builds the core (open.ts), which knows how state is loaded: this file does not.
   */
  readonly reload: () => void;
}

/** Runs `fn` in a transaction; if it fails, the in-memory state is rebuilt from the file. */
export function write<R>(l: LedgerCore, fn: () => R): R {
  try {
    const out = l.inTransaction(() => {
      return fn();
    }) as R;
    l.time.committed();
    committed(l);
    return out;
  } catch (err) {
    l.time.rolledBack();
    l.pending.forget();
    l.reload();
    throw err;
  }
}

export function committed(l: LedgerCore): void {
  l.commits++;
  l.groupCommit?.committed();
}

export function live(l: LedgerCore): void {
  if (l.closed) throw new LedgerError('LEDGER_CLOSED', `${l.path} was closed; open it again`);
}

export function writable(l: LedgerCore): void {
  live(l);
  if (l.readonly) throw new LedgerError('LEDGER_READONLY', `${l.path} was opened read-only (for examination); open it without readonly to write`);
}

/** Makes every commit so far durable against a power cut: see Ledger.flush. */
export function flush(l: LedgerCore): void {
  if (!l.closed) l.groupCommit?.flush();
}

export function loadFeeds(l: LedgerCore): Map<string, { id: number; seq: number; hash: string }> {
  const out = new Map<string, { id: number; seq: number; hash: string }>();
  const rows = l.db.prepare(`
    SELECT f.id, f.author, e.seq, e.hash FROM feeds f
    LEFT JOIN entries e ON e.id = (SELECT max(id) FROM entries WHERE ${inFeedSql('f.id')})`).all() as Array<{ id: number; author: string; seq: number | null; hash: Buffer | null }>;
  for (const r of rows) out.set(r.author, { id: r.id, seq: r.seq ?? 0, hash: r.hash?.toString('hex') ?? '' });
  return out;
}

/** The author's feed row, created (empty) on its first entry. Inside a transaction. */
export function feedFor(l: LedgerCore, author: string): { id: number; seq: number; hash: string } {
  let f = l.feeds.get(author);
  if (!f) {
    const id = Number(l.stmt.insertFeed.run(author).lastInsertRowid);
    if (id > MAX_FEED_ID) throw new LedgerError('TOO_MANY_FEEDS', `${MAX_FEED_ID} feeds; nothing was written. Start a new ledger file and let it re-sync from its peers.`);
    f = { id, seq: 0, hash: '' };
    l.feeds.set(author, f);
  }
  return f;
}

/** The cached head (the file's head is its highest stored seq; a failed transaction reloads it). */
export function setHead(l: LedgerCore, author: string, seq: number, hash: Uint8Array): void {
  const f = feedFor(l, author);
  f.seq = seq;
  f.hash = toHex(hash);
  l.unmarked.add(author);
}

/**
 * Advances the feeds_checked marks of the feeds whose head moved, in the transaction that
 * stored their entries: a feed's row once it is INDEX_BATCH entries past its mark (or with
 * `all`), so an open after a crash counts at most that many of its entries, and a single
 * ingested entry (sync) writes no extra row (~3 % of its cost).
 */
export function markChecked(l: LedgerCore, all = false): void {
  for (const author of l.unmarked) {
    const f = l.feeds.get(author);
    if (!f || f.seq === 0) {
      l.unmarked.delete(author);
      continue;
    }
    if (!all && f.seq - (l.marked.get(author) ?? 0) < INDEX_BATCH) continue;
    l.stmt.markChecked.run(f.id, f.seq);
    l.marked.set(author, f.seq);
    l.unmarked.delete(author);
  }
}
