/**
 * The durable replica (DESIGN §4–7, §10): one SQLite file holding every feed, the materialised
 * policy state, the access log, the quarantine and the fork proofs.
 *
 * Durability (DESIGN §4, §10). Every append and ingest is one SQLite transaction in WAL mode, so
 * a kill -9 at any moment loses nothing that was committed: the commit is in the WAL, which the
 * OS holds even when the process dies. A power cut is different: only what was fsynced
 * survives, and an entry must survive it before anyone else sees it, or a node that lost its
 * last entries would re-sign their seqs with other content and fork its own feed.
 *
 * 'group' (the default) is group commit: transactions commit with `synchronous = NORMAL` (no
 * fsync), and one fsync of the WAL makes every commit so far durable. A worker thread runs that
 * fsync once the oldest commit it does not yet cover is `groupCommitMs` old (checked at each
 * commit and by a timer), so appends never wait for the disk (group-commit.ts). Before any entry
 * or head leaves the ledger (read, readEncoded, iterateEncoded, heads: what sync publishes), on
 * `flush()` and on `close()`, the caller's thread fsyncs whatever is still pending. So what a
 * power cut can take is only what nobody has seen yet, at most ~groupCommitMs plus two fsyncs'
 * worth (one may be running when the next is asked for): the same as a cut a moment before the
 * commit. An fsync per entry held single
 * appends near 3,000/s here; in the caller's thread, shared by ~60 commits, the fsync still took
 * ~15-19 % of an append (WAL mode logs whole pages, ~20 KB per access event); on the worker it
 * takes none (bench/RESULTS.md, ledger).
 * 'each' fsyncs every commit before it returns (`synchronous = FULL`), for callers that hand
 * entries to the outside world without going through the ledger. 'process' never fsyncs but at
 * checkpoints: commits survive a crash of the process, not of the machine (tests; hosts whose
 * storage has its own power backup).
 *
 * The policy reducer of @keymesh/protocol runs in memory (policy entries in full, access events
 * by reference) and its values are written to the `policy` table in the same transaction as the
 * entries that changed them, so the file always holds entries and state that agree.
 */
import Database from 'better-sqlite3';
import { basename } from 'node:path';
import { existsSync, renameSync, statSync } from 'node:fs';
import {
  BODY_SCHEMAS, HybridClock, PolicyState, canonicalString, decodeEntry, defaultCrypto, describeZodError, entryHashBytes,
  fromHex, isEventType, policyKeyOf, signEntry, signingMessage, toHex, DEFAULT_MAX_DRIFT_MS,
  type AnyEntry, type BodyOf, type CryptoProvider, type EntryType, type Heads, type KeyPair, type SeqRange,
  type CertValue, type MemberValue, type ResourceValue, type CardValue, type Conflict, type Fork, type NodeValue, type EventRef,
} from '@keymesh/protocol';
import { LedgerError, type RejectCode } from './errors.js';
import { entryIdSql, inFeedSql, MAX_FEED_ID, migrate, SCHEMA_VERSION, SEQ_BITS } from './schema.js';
import { checkLine, type CheckedLine } from './check-line.js';
import { GroupCommit, WAL_AUTOCHECKPOINT_PAGES } from './group-commit.js';
import { isKnownEntry, isRestrictive } from '@keymesh/protocol';
import { unsignedWireText, utf8 } from '@keymesh/protocol';
import { NodeTime } from './node-time.js';
import { HeldEntries } from './held.js';
import { HELD_AUTHORS, Pending, type PendingEntry } from './pending.js';
import { Quarantine, type QuarantineRow } from './quarantine.js';

export interface LedgerOptions {
  /** Site id (hash of the genesis entry). A ledger trusts nothing that does not chain to it. */
  site: string;
  crypto?: CryptoProvider;
  /** Wall clock (ms); tests pass their own. */
  now?: () => number;
  /** When commits reach the disk: see the comment at the top of this file. Default 'group'. */
  durability?: Durability;
  /** In 'group' mode, the longest a commit waits for its fsync, in ms. Default 10. */
  groupCommitMs?: number;
  /** Entries stamped further than this ahead of local time are quarantined. */
  maxDriftMs?: number;
  /**
   * Open a damaged file anyway (no feed-contiguity check), to examine it with `verify()`.
   * For forensics only: never append to such a ledger.
   */
  forensic?: boolean;
  /**
   * Read only (forensics: verify, digest, heads, export): nothing in the file is written, not
   * even the schema upgrade or the site record. Appends and ingests throw LEDGER_READONLY.
   */
  readonly?: boolean;
}

export type VerifyMode = 'each' | 'batch';

export const DURABILITIES = ['group', 'each', 'process'] as const;
export type Durability = (typeof DURABILITIES)[number];

export interface IngestOptions {
  /**
   * 'each' checks every signature. 'batch' checks every hash link of a contiguous run of one
   * feed and the signature of its newest entry only, which commits to the whole run (DESIGN §4):
   * fast catch-up after an outage. In 'batch' mode a damaged signature field of an inner entry
   * (not its content, which the links protect) can go unnoticed; `verify()` finds it.
   */
  verify?: VerifyMode;
}

export interface Rejected {
  author: string | null;
  seq: number | null;
  code: RejectCode;
  reason: string;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  /**
   * Entries newly held, verified, for later: ahead of a gap in their feed, or of a key without
   * authority yet (they apply when the predecessor, or the authority, arrives).
   */
  waiting: number;
  /** Entries not held because pending was at its bounds (pending.ts); peers send them again. */
  dropped: number;
  rejected: Rejected[];
  /** Equivocations found: two different signed entries for one (author, seq). */
  forks: Array<{ author: string; seq: number }>;
}

export function emptyIngestResult(): IngestResult {
  return { accepted: 0, duplicates: 0, waiting: 0, dropped: 0, rejected: [], forks: [] };
}

/** Adds `r` into `total` (ingests done in parts: a worker pool's batches, a batch line by line). */
export function addIngestResult(total: IngestResult, r: IngestResult): IngestResult {
  total.accepted += r.accepted;
  total.duplicates += r.duplicates;
  total.waiting += r.waiting;
  total.dropped += r.dropped;
  total.rejected.push(...r.rejected);
  total.forks.push(...r.forks);
  return total;
}

export interface AccessLogQuery {
  member?: string;
  resource?: string;
  /** ms, inclusive */
  from?: number;
  /** ms, exclusive */
  to?: number;
  limit?: number;
  /** Cursor from a previous page. */
  before?: string;
}

export interface AccessLogRow {
  author: string;
  seq: number;
  hash: string;
  type: EntryType;
  resource: string;
  member: string | null;
  at: number;
  allow: boolean | null;
  detail: Record<string, unknown>;
}

export interface Alarm {
  kind: 'fork' | 'conflict' | 'quarantine' | 'held';
  message: string;
  detail: Record<string, unknown>;
}

type Reject = (raw: string, author: string | null, seq: number | null, code: RejectCode, reason: string) => void;

interface IngestContext {
  result: IngestResult;
  quarantine: QuarantineRow[];
  forkRows: Array<{ p: Parsed; original: Uint8Array }>;
  touched: Set<string>;
  everything: boolean;
  receivedAt: number;
  reject: Reject;
}

interface Parsed {
  entry: AnyEntry;
  json: string;
  hash: Uint8Array;
  /** False: a type or body this release does not understand (held for a newer version); unset: not yet checked. */
  known?: boolean;
}

/** Fork proofs kept per (author, seq) besides the feed's own entry there (sync.ts sends them all). */
export const FORK_PROOFS_PER_SEQ = 3;

/** Events an append leaves for the next batch of the access log's member and resource indexes. */
const INDEX_BATCH = 256;
type UnindexedEvent = { feed: number; seq: number; member: string | null; resource: string; at: number };

/** Policy keys that can give a key authority (PolicyState.hasAuthority). */
const grantsAuthority = (k: string): boolean => k === 'admins' || k.startsWith('member/') || k.startsWith('node/');

/** Bounds of the peers' claims (noteRemoteHeads). */
export const PEER_CLAIMS_UNKNOWN = 256;
export const PEER_NODES = 256;

const h8 = (hash: Uint8Array): bigint => Buffer.from(hash.buffer, hash.byteOffset, 8).readBigInt64BE(0);

export class Ledger {
  readonly site: string;
  readonly path: string;
  readonly readonly: boolean;
  readonly crypto: CryptoProvider;
  private readonly db: Database.Database;
  /** `now` (floor-aware) and the hybrid logical clock: see node-time.ts. */
  private readonly time: NodeTime;
  private readonly clock: HybridClock;
  /** Entries stored for a newer version: see held.ts. */
  private readonly held: HeldEntries;
  private state: PolicyState;
  /** author → feed id and head; the `feeds` table, cached (reloaded if a transaction fails). */
  private feeds: Map<string, { id: number; seq: number; hash: string }>;
  /**
   * Stored access events not yet in events_by_member / events_by_resource (schema 4): written
   * there every INDEX_BATCH appends, at the end of every ingest, before a query that needs them,
   * and on close. Rebuilt from the file if a transaction fails, and on open.
   */
  private unindexed: UnindexedEvent[];
  private closed = false;
  private readonly stmt;
  private readonly durability: Durability;
  /** Set in 'group' mode (a file, not read-only): see group-commit.ts. */
  private readonly groupCommit: GroupCommit | undefined;
  private commits = 0;
  /** Own feeds that passed assertOwnFeedWritable since pending, forks or peers last changed. */
  private readonly writableFeeds = new Set<string>();
  /** Feeds whose head moved since their feeds_checked mark was written (see checkOnOpen). */
  private readonly unmarked = new Set<string>();
  /** author → the feeds_checked mark last written (or found on open). */
  private readonly marked = new Map<string, number>();
  /** Entries held for later: ahead of a gap, or of keys without authority (pending.ts). */
  private readonly pending: Pending;
  private readonly quarantine: Quarantine;
  private readonly inTransaction: (fn: () => unknown) => unknown;

  private constructor(path: string, db: Database.Database, opts: LedgerOptions) {
    this.path = path;
    this.readonly = !!opts.readonly;
    this.db = db;
    this.site = opts.site;
    this.crypto = opts.crypto ?? defaultCrypto;
    this.durability = opts.durability ?? 'group';
    if (!this.readonly && this.durability === 'group' && path !== ':memory:') this.groupCommit = new GroupCommit(path, opts.groupCommitMs ?? 10);
    this.time = new NodeTime(db, opts.now ?? Date.now, opts.maxDriftMs ?? DEFAULT_MAX_DRIFT_MS);
    this.clock = this.time.clock;
    this.held = new HeldEntries(db);
    this.stmt = {
      insertEntry: db.prepare(`INSERT INTO entries (id, feed, seq, hash, h8, type, pkey, hlc_wall, hlc_logical, json) VALUES (${entryIdSql('?', '?')}, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      insertFeed: db.prepare('INSERT INTO feeds (author) VALUES (?)'),
      entryAt: db.prepare(`SELECT hash, json FROM entries WHERE id = ${entryIdSql('?', '?')}`),
      insertEvent: db.prepare(`INSERT INTO events (id, resource, member, at, allow) VALUES (${entryIdSql('?', '?')}, ?, ?, ?, ?)`),
      indexByMember: db.prepare(`INSERT INTO events_by_member (member, at, id) VALUES (?, ?, ${entryIdSql('?', '?')})`),
      indexByResource: db.prepare(`INSERT INTO events_by_resource (resource, at, id) VALUES (?, ?, ${entryIdSql('?', '?')})`),
      markChecked: db.prepare('INSERT INTO feeds_checked (feed, seq) VALUES (?, ?) ON CONFLICT (feed) DO UPDATE SET seq = excluded.seq'),
      markIndexed: db.prepare('INSERT INTO events_indexed (feed, seq) VALUES (?, ?) ON CONFLICT (feed) DO UPDATE SET seq = max(seq, excluded.seq)'),
      upsertPolicy: db.prepare('INSERT INTO policy (pkey, value, heads) VALUES (?, ?, ?) ON CONFLICT (pkey) DO UPDATE SET value = excluded.value, heads = excluded.heads'),
      deletePolicy: db.prepare('DELETE FROM policy WHERE pkey = ?'),
      insertFork: db.prepare('INSERT OR IGNORE INTO forks (author, seq, hash, json, detected_at) VALUES (?, ?, ?, ?, ?)'),
      forksOf: db.prepare('SELECT seq FROM forks WHERE author = ? LIMIT 1'),
      repairJson: db.prepare(`UPDATE entries SET json = ? WHERE id = ${entryIdSql('?', '?')}`),
      forkBound: db.prepare('SELECT min(seq) AS low, (SELECT count(*) FROM forks WHERE author = @author AND seq = @seq) AS here FROM forks WHERE author = @author'),
      read: db.prepare(`SELECT json FROM entries WHERE id BETWEEN ${entryIdSql('?', '?')} AND ${entryIdSql('?', String(2 ** SEQ_BITS - 1))} ORDER BY id LIMIT ?`),
      // A peer's latest claim replaces its previous one (claims are unsigned: sync lag only).
      peerHead: db.prepare('INSERT OR REPLACE INTO peers (node, author, seq, seen_at) VALUES (?, ?, ?, ?)'),
      peerKnown: db.prepare('SELECT 1 FROM peers WHERE node = ? LIMIT 1'),
      forgetPeer: db.prepare('DELETE FROM peers WHERE node = ?'),
    };
    // One transaction wrapper, made once: better-sqlite3 builds a new one per db.transaction() call.
    this.inTransaction = db.transaction((fn: () => unknown) => fn());
    this.feeds = this.loadFeeds();
    this.state = this.loadState();
    this.time.recompute(this.coordinatorTime(), true);
    this.unindexed = this.loadUnindexed();
    this.pending = new Pending(db);
    this.quarantine = new Quarantine(db, this.crypto);
    if (!this.readonly) this.rereadHeld();
  }

  /**
   * Opens (creating if needed) the ledger file at `path` for `site`. A damaged or foreign file is
   * refused with an error that names the file and what to do.
   */
  static open(path: string, opts: LedgerOptions): Ledger {
    if (opts.durability !== undefined && !DURABILITIES.includes(opts.durability)) {
      throw new LedgerError('BAD_OPTION', `durability must be one of ${DURABILITIES.map((d) => `'${d}'`).join(', ')}, not ${JSON.stringify(opts.durability)}; nothing was opened.`);
    }
    if (opts.groupCommitMs !== undefined && !(Number.isFinite(opts.groupCommitMs) && opts.groupCommitMs >= 0)) {
      throw new LedgerError('BAD_OPTION', `groupCommitMs must be a number of milliseconds ≥ 0, not ${JSON.stringify(opts.groupCommitMs)}; nothing was opened.`);
    }
    if (path !== ':memory:') {
      if (!existsSync(path)) {
        if (opts.readonly) throw new LedgerError('LEDGER_NOT_A_DATABASE', `${path} does not exist; check the path (a read-only open never creates it).`);
        Ledger.create(path, opts.site);
      }
      else if (statSync(path).size === 0) {
        // Ledgers are created whole (see create), so an empty file is a damaged one.
        throw new LedgerError('LEDGER_CORRUPT', `${path} is empty (0 bytes): the file was truncated. Restore it from a backup, or delete it to start an empty ledger that re-syncs from its peers.`);
      }
    }
    let db: Database.Database;
    try {
      db = new Database(path, { readonly: !!opts.readonly });
      if (!opts.readonly) db.pragma('journal_mode = WAL');
    } catch (err) {
      throw Ledger.fileError(path, err);
    }
    try {
      if (!opts.readonly) {
        db.pragma(`synchronous = ${opts.durability === 'each' ? 'FULL' : 'NORMAL'}`);
        db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`); // see group-commit.ts
      }
      db.pragma('foreign_keys = OFF');
      // 32 MiB page cache (default 2 MiB): keeps the access-log indexes' hot pages in memory.
      db.pragma('cache_size = -32768');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new LedgerError('LEDGER_TOO_NEW', `${path} has schema version ${version}; this release knows up to ${SCHEMA_VERSION}. Upgrade Keymesh on this node.`);
      }
      if (opts.readonly && version !== SCHEMA_VERSION) {
        throw new LedgerError('LEDGER_NOT_A_DATABASE', `${path} has schema version ${version}, this release ${SCHEMA_VERSION}; open it read-write once to upgrade it (or examine it with the release that wrote it).`);
      }
      if (!opts.readonly) migrate(db);
      const row = db.prepare("SELECT value FROM meta WHERE key = 'site'").get() as { value: string } | undefined;
      if (!row) {
        if (opts.readonly) throw new LedgerError('LEDGER_NOT_A_DATABASE', `${path} records no site; it holds no ledger.`);
        db.prepare("INSERT INTO meta (key, value) VALUES ('site', ?)").run(opts.site);
      } else if (row.value !== opts.site) {
        throw new LedgerError('LEDGER_WRONG_SITE', `${path} holds site ${row.value.slice(0, 16)}…, not ${opts.site.slice(0, 16)}…. Point this node at its own database file.`);
      }
      const ledger = new Ledger(path, db, opts);
      try {
        if (!opts.forensic) ledger.checkOnOpen();
      } catch (err) {
        ledger.groupCommit?.close();
        throw err;
      }
      return ledger;
    } catch (err) {
      db.close();
      if (err instanceof LedgerError) throw err;
      throw Ledger.fileError(path, err);
    }
  }

  /**
   * Creates a new ledger file atomically: built under a temporary name and renamed into place,
   * so a crash during creation never leaves a half-made (or empty) file at `path`.
   */
  private static create(path: string, site: string): void {
    const tmp = `${path}.creating-${process.pid}`;
    const db = new Database(tmp);
    try {
      db.pragma('journal_mode = WAL');
      migrate(db);
      db.prepare("INSERT INTO meta (key, value) VALUES ('site', ?)").run(site);
      db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.close();
    }
    renameSync(tmp, path);
  }

  private static fileError(path: string, err: unknown): LedgerError {
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_NOTADB') {
      return new LedgerError('LEDGER_NOT_A_DATABASE', `${path} is not an SQLite database (${(err as Error).message}). Check the path; if the file was damaged, move it aside and let the node re-sync.`);
    }
    if (code === 'SQLITE_CORRUPT') {
      return new LedgerError('LEDGER_CORRUPT', `${path}: ${(err as Error).message}. Move ${basename(path)} aside (keep it for forensics) and start with an empty ledger to re-sync, or restore the last backup.`);
    }
    return new LedgerError('LEDGER_CORRUPT', `${path}: ${(err as Error).message}`);
  }

  /**
   * Feeds whose stored seqs are not exactly 1..head (seqs are unique and ≥ 1, so a count below
   * the highest seq means a gap). Entries are only ever stored contiguously: a gap means the
   * file was tampered with or damaged.
   */
  private gappedFeeds(limit: number): Array<{ author: string; seq: number; n: number }> {
    return this.db.prepare(`
      SELECT f.author, max(e.seq) AS seq, count(e.seq) AS n FROM feeds f JOIN entries e ON ${inFeedSql('f.id', 'e.id')}
      GROUP BY f.id HAVING n != seq LIMIT ?`).all(limit) as Array<{ author: string; seq: number; n: number }>;
  }

  /**
   * What a crash or a failing disk can leave behind, checked on every open without reading the
   * whole file (issue 10, deliver 4: `PRAGMA quick_check` read all of it, 2.4 s with a cold page
   * cache at 200,000 events, while the door stayed dead). SQLite recovers a torn WAL itself. Each
   * feed's head entry must hold the content its stored hash names, and the entries stored since
   * the feed was last found whole (`feeds_checked`, advanced as entries are stored) must be
   * exactly the seqs up to its head. Every page, every signature and a gap deep inside a feed
   * are for `verify()` (`keymesh-ledger verify`), on demand.
   */
  private checkOnOpen(): void {
    const marks = new Map((this.db.prepare('SELECT feed, seq FROM feeds_checked').all() as Array<{ feed: number; seq: number }>).map((r) => [r.feed, r.seq]));
    const countIn = this.db.prepare(`SELECT count(*) AS n FROM entries WHERE id BETWEEN ${entryIdSql('?', '?')} AND ${entryIdSql('?', '?')}`);
    const found: Array<[number, number]> = [];
    const fail = (author: string, what: string) => new LedgerError('LEDGER_CORRUPT', `${this.path}: feed ${author.slice(0, 12)}… ${what}. Run \`keymesh-ledger verify ${this.path}\` for details; move the file aside to re-sync (entries live on their authors), or restore the last backup.`);
    for (const [author, f] of this.feeds) {
      const mark = marks.get(f.id) ?? 0;
      if (mark > f.seq) throw fail(author, `was found whole up to seq ${mark} but now ends at seq ${f.seq}: entries were lost`);
      if (f.seq === 0) continue;
      const head = this.stmt.entryAt.get(f.id, f.seq) as { hash: Buffer; json: string };
      let ok = false;
      try {
        const e = JSON.parse(head.json) as { author?: unknown; seq?: unknown };
        ok = e.author === author && e.seq === f.seq && Buffer.compare(Buffer.from(this.crypto.sha256(utf8(unsignedWireText(head.json)))), head.hash) === 0;
      } catch {
        // unreadable content: not ok
      }
      if (!ok) throw fail(author, `has a head entry (seq ${f.seq}) whose content does not match its hash`);
      this.marked.set(author, this.readonly ? mark : f.seq);
      if (f.seq === mark) continue;
      const { n } = countIn.get(f.id, mark + 1, f.id, f.seq) as { n: number };
      if (n !== f.seq - mark) throw fail(author, mark ? `should hold seq ${mark + 1}..${f.seq} after the ${mark} found whole before, but holds ${n} of them` : `should hold seq 1..${f.seq} but holds ${n} entries`);
      found.push([f.id, f.seq]);
    }
    if (found.length && !this.readonly) this.write(() => found.forEach(([feed, seq]) => this.stmt.markChecked.run(feed, seq)));
  }

  /**
   * Advances the feeds_checked marks of the feeds whose head moved, in the transaction that
   * stored their entries: a feed's row once it is INDEX_BATCH entries past its mark (or with
   * `all`), so an open after a crash counts at most that many of its entries, and a single
   * ingested entry (sync) writes no extra row (~3 % of its cost).
   */
  private markChecked(all = false): void {
    for (const author of this.unmarked) {
      const f = this.feeds.get(author);
      if (!f || f.seq === 0) {
        this.unmarked.delete(author);
        continue;
      }
      if (!all && f.seq - (this.marked.get(author) ?? 0) < INDEX_BATCH) continue;
      this.stmt.markChecked.run(f.id, f.seq);
      this.marked.set(author, f.seq);
      this.unmarked.delete(author);
    }
  }

  private loadFeeds(): Map<string, { id: number; seq: number; hash: string }> {
    const out = new Map<string, { id: number; seq: number; hash: string }>();
    const rows = this.db.prepare(`
      SELECT f.id, f.author, e.seq, e.hash FROM feeds f
      LEFT JOIN entries e ON e.id = (SELECT max(id) FROM entries WHERE ${inFeedSql('f.id')})`).all() as Array<{ id: number; author: string; seq: number | null; hash: Buffer | null }>;
    for (const r of rows) out.set(r.author, { id: r.id, seq: r.seq ?? 0, hash: r.hash?.toString('hex') ?? '' });
    return out;
  }

  /** The author's feed row, created (empty) on its first entry. Inside a transaction. */
  private feedFor(author: string): { id: number; seq: number; hash: string } {
    let f = this.feeds.get(author);
    if (!f) {
      const id = Number(this.stmt.insertFeed.run(author).lastInsertRowid);
      if (id > MAX_FEED_ID) throw new LedgerError('TOO_MANY_FEEDS', `${MAX_FEED_ID} feeds; nothing was written. Start a new ledger file and let it re-sync from its peers.`);
      f = { id, seq: 0, hash: '' };
      this.feeds.set(author, f);
    }
    return f;
  }

  /** The cached head (the file's head is its highest stored seq; a failed transaction reloads it). */
  private setHead(author: string, seq: number, hash: Uint8Array): void {
    const f = this.feedFor(author);
    f.seq = seq;
    f.hash = toHex(hash);
    this.unmarked.add(author);
  }

  /**
   * The in-memory state holds the policy entries; access events stay in the file (events table),
   * read when the digest needs them: a node keeps every decision it ever made, and holding each in
   * memory cost a Pi memory and every append GC time (~9 % of an append, bench/RESULTS.md).
   */
  private loadState(): PolicyState {
    const s = new PolicyState(this.site, this.crypto, { events: () => this.eventRefs() });
    // In file order (found through the policy entries' h8 index, then read by rowid): read in
    // the index's hash order, a cold page cache paid a random read per entry (~3x slower). With
    // SQLite's default page cache meanwhile: pages read once need not fill the 32 MiB one
    // (~15 MB of RSS at 25,000 rules). Entries share their site and author strings (~4 MB).
    const cacheSize = this.db.pragma('cache_size', { simple: true }) as number;
    this.db.pragma('cache_size = -2000');
    try {
      const authors = new Map<string, string>();
      const lastHash = new Map<string, string>(); // author → hash of its last rule read: the next one's prev
      for (const row of this.db.prepare('SELECT hash, json FROM entries WHERE id IN (SELECT id FROM entries WHERE pkey IS NOT NULL) ORDER BY id').iterate() as Iterable<{ hash: Buffer; json: string }>) {
        const e = JSON.parse(row.json) as AnyEntry;
        if (e.site === this.site) e.site = this.site;
        const author = authors.get(e.author);
        if (author === undefined) authors.set(e.author, e.author);
        else e.author = author;
        const hash = row.hash.toString('hex');
        if (e.prev !== null && e.prev === lastHash.get(e.author)) e.prev = lastHash.get(e.author)!;
        lastHash.set(e.author, hash);
        s.add(e, hash);
      }
    } finally {
      this.db.pragma(`cache_size = ${cacheSize}`);
    }
    const originalAt = this.db.prepare(`SELECT e.hash FROM feeds f JOIN entries e ON e.id = ${entryIdSql('f.id', '?')} WHERE f.author = ?`);
    for (const row of this.db.prepare('SELECT author, seq, hash, json FROM forks').iterate() as Iterable<{ author: string; seq: number; hash: Buffer; json: string }>) {
      const original = originalAt.get(row.seq, row.author) as { hash: Buffer } | undefined;
      this.noteFork(s, JSON.parse(row.json) as AnyEntry, row.hash, original?.hash);
    }
    return s;
  }

  /** A second entry at a stored (author, seq): kept as proof; from there on the feed is not trusted. */
  private noteFork(s: PolicyState, entry: AnyEntry, hash: Uint8Array, original: Uint8Array | undefined): void {
    if (policyKeyOf(entry) && isKnownEntry(entry)) s.add(entry, toHex(hash)); // an entry of a newer version stays out
    s.noteSeqs(entry.author, entry.seq, original ? [toHex(original), toHex(hash)] : [toHex(hash)]);
  }

  /** Writes the unindexed events into the access log's member and resource indexes. In a transaction. */
  private indexEvents(): void {
    this.markChecked(); // with the index batches: see markChecked
    if (this.unindexed.length === 0) return;
    const upTo = new Map<number, number>();
    for (const ev of this.unindexed) {
      if (ev.member !== null) this.stmt.indexByMember.run(ev.member, ev.at, ev.feed, ev.seq);
      this.stmt.indexByResource.run(ev.resource, ev.at, ev.feed, ev.seq);
      upTo.set(ev.feed, Math.max(upTo.get(ev.feed) ?? 0, ev.seq));
    }
    for (const [feed, seq] of upTo) this.stmt.markIndexed.run(feed, seq);
    this.unindexed = [];
  }

  /** The stored events past each feed's events_indexed mark (after a crash, or a failed transaction). */
  private loadUnindexed(): UnindexedEvent[] {
    const out: UnindexedEvent[] = [];
    const rows = this.db.prepare(`
      SELECT f.id AS feed, e.seq, e.json FROM feeds f LEFT JOIN events_indexed x ON x.feed = f.id
      JOIN entries e ON e.id BETWEEN ${entryIdSql('f.id', 'coalesce(x.seq, 0) + 1')} AND ${entryIdSql('f.id', String(2 ** SEQ_BITS - 1))}
      WHERE e.pkey IS NULL AND e.id NOT IN (SELECT id FROM held)`).iterate() as Iterable<{ feed: number; seq: number; json: string }>;
    for (const r of rows) {
      const b = (JSON.parse(r.json) as { body: { resource: string; member?: string | null; at: number } }).body;
      out.push({ feed: r.feed, seq: r.seq, member: b.member ?? null, resource: b.resource, at: b.at });
    }
    return out;
  }

  private *eventRefs(): IterableIterator<EventRef> {
    for (const row of this.db.prepare('SELECT f.author, e.seq, e.hash, ev.resource FROM events ev JOIN entries e ON e.id = ev.id JOIN feeds f ON f.id = e.feed').iterate() as Iterable<{ author: string; seq: number; hash: Buffer; resource: string }>) {
      yield { author: row.author, seq: row.seq, hash: row.hash.toString('hex'), resource: row.resource };
    }
  }

  close(): void {
    if (this.closed) return;
    if (this.unindexed.length && !this.readonly) {
      try {
        this.write(() => {
          this.indexEvents();
          this.markChecked(true);
        });
      } catch {
        // The file must still be released; the next open finds these events again (loadUnindexed).
      }
    }
    this.groupCommit?.close();
    this.closed = true;
    this.db.close();
  }

  /**
   * Makes every commit so far durable against a power cut (group commit: one fsync of the WAL,
   * on this thread). A no-op when nothing is pending, and in the 'each' and 'process' modes.
   * Runs by itself before entries leave the ledger; call it before handing an entry returned by
   * `append` to anyone else.
   */
  flush(): void {
    if (!this.closed) this.groupCommit?.flush();
  }

  /** Commits, fsyncs, and commits not yet fsynced (group commit figures, for benchmarks and the dashboard). */
  get durabilityStats(): { durability: Durability; commits: number; fsyncs: number; unsynced: number; checkpoints: number } {
    return { durability: this.durability, commits: this.commits, fsyncs: 0, unsynced: 0, checkpoints: 0, ...this.groupCommit?.stats };
  }

  private committed(): void {
    this.commits++;
    this.groupCommit?.committed();
  }

  private live(): void {
    if (this.closed) throw new LedgerError('LEDGER_CLOSED', `${this.path} was closed; open it again`);
  }

  private writable(): void {
    this.live();
    if (this.readonly) throw new LedgerError('LEDGER_READONLY', `${this.path} was opened read-only (for examination); open it without readonly to write`);
  }

  /** The in-memory policy state (read-only use: decide(), queries). */
  get policy(): PolicyState {
    return this.state;
  }

  /**
   * This node's time in ms (DESIGN §6, §10): the later of its wall clock and the newest time it
   * has verified from an enrolled coordinator, kept across reboots. Pass it to decide().
   */
  now(): number {
    return this.time.now();
  }

  /** Entries stored for a newer version of Keymesh (DESIGN §4): verified, inert until an upgrade. */
  heldForNewerVersion(): number {
    return this.held.count();
  }

  /**
   * Re-reads the held entries this release understands (after an upgrade): they join the state
   * and the access log as if just received, and leave the `held` table. On open.
   */
  private rereadHeld(): void {
    const understood = this.held.rows().map((r) => ({ ...r, entry: JSON.parse(r.json) as AnyEntry })).filter((r) => isKnownEntry(r.entry));
    if (understood.length === 0) return;
    this.write(() => {
      const touched = new Set<string>();
      const setKey = this.db.prepare(`UPDATE entries SET pkey = ? WHERE id = ${entryIdSql('?', '?')}`);
      for (const r of understood) {
        const e = r.entry;
        const pkey = policyKeyOf(e);
        this.held.release(r.feed, r.seq);
        if (pkey) {
          setKey.run(pkey, r.feed, r.seq);
          this.state.add(e, r.hash.toString('hex'));
          touched.add(pkey);
        } else if (isEventType(e.type)) {
          this.recordEvent(r.feed, e);
        }
      }
      this.materialise(touched);
      this.indexEvents();
    });
  }

  // ---- writing ---------------------------------------------------------------------------

  /** Appends, signs and commits one entry, and updates the state, in one transaction. */
  append<T extends EntryType>(key: KeyPair, type: T, body: BodyOf<T>): { entry: AnyEntry; hash: string } {
    return this.appendMany(key, [{ type, body }])[0]!;
  }

  /** Appends several entries by one author in a single transaction. */
  appendMany(key: KeyPair, items: ReadonlyArray<{ type: EntryType; body: unknown }>): Array<{ entry: AnyEntry; hash: string; hashBytes: Uint8Array }> {
    this.writable();
    if (items.length === 0) return [];
    const author = key.publicKey;
    this.assertOwnFeedWritable(author);
    return this.write(() => {
      const head = this.feeds.get(author);
      let seq = head?.seq ?? 0;
      let prev = head && head.seq > 0 ? head.hash : null;
      const out: Array<{ entry: AnyEntry; hash: string; hashBytes: Uint8Array }> = [];
      const touched = new Set<string>();
      for (const item of items) {
        // The envelope is built here and is valid by construction; the body is the caller's.
        const schema = BODY_SCHEMAS[item.type];
        const checked = schema?.safeParse(item.body);
        if (!checked?.success) {
          throw new LedgerError('BAD_ENTRY', `${item.type}: ${checked ? describeZodError({ issues: checked.error.issues.map((i) => ({ ...i, path: ['body', ...i.path] })) }) : 'unknown entry type'}. Nothing was written.`);
        }
        const probe = { type: item.type, body: item.body } as AnyEntry;
        const pkey = policyKeyOf(probe);
        const { entry, hash, hashBytes, wire } = signEntry(key, {
          site: this.site, seq: seq + 1, prev, hlc: this.clock.now(), type: item.type,
          deps: pkey ? this.state.headHashes(pkey) : [], body: item.body as never,
        }, this.crypto);
        this.storeEntry({ entry: entry as AnyEntry, json: wire, hash: hashBytes }, touched, hash);
        seq += 1;
        prev = hash;
        out.push({ entry: entry as AnyEntry, hash, hashBytes });
      }
      this.setHead(author, seq, out[out.length - 1]!.hashBytes);
      // An append that grants authority (an enrolment, a member's key) releases what that key's entries waited for.
      this.materialise(touched, this.releaseHeld(touched));
      if (this.unindexed.length >= INDEX_BATCH) this.indexEvents();
      return out;
    });
  }

  /**
   * Refuses to extend a feed that is proven ahead elsewhere or forked (DESIGN §4). Proof means
   * a signed entry (DESIGN §3, Evidence): a fork, or a verified entry of this key held in
   * pending; a peer's unsigned `have` never blocks an append. Only ingest (and clear) change
   * the answer, so a passed check is remembered until one of them runs: appends skip queries.
   */
  private assertOwnFeedWritable(author: string): void {
    if (this.writableFeeds.has(author)) return;
    const fork = this.stmt.forksOf.get(author) as { seq: number } | undefined;
    if (fork) {
      throw new LedgerError('SELF_FORK', `two different entries exist for seq ${fork.seq} of ${author.slice(0, 12)}…. This key must stop writing: give the node a new key and have an admin link it to the old feed (node.retire + node.enrol).`, { author, seq: fork.seq });
    }
    const behind = this.ownFeedBehind(author);
    if (behind) {
      throw new LedgerError('SELF_FEED_BEHIND', `a signed entry of ${author.slice(0, 12)}… at seq ${behind.remote} exists (received, signature verified), but this database holds its feed only up to seq ${behind.local}; appending now would fork the feed. If this node was restored from a backup or re-imaged, give it a new key and have an admin enrol it naming the old one; otherwise wait until the missing entries arrive.`, { author, ...behind });
    }
    this.writableFeeds.add(author);
  }

  /**
   * Non-null when a signed entry of `author` beyond the local head is held (verified before it
   * was parked: pending.ts). Peers' claims do not count: they are unsigned.
   */
  ownFeedBehind(author: string): { local: number; remote: number } | null {
    const local = this.feeds.get(author)?.seq ?? 0;
    const remote = this.pending.maxSeq(author);
    return remote > local ? { local, remote } : null;
  }

  /**
   * Records the heads a peer announced, for sync lag only: unsigned, so they never block an
   * append or change state. The latest claim replaces the previous one (a later truthful
   * `have` undoes a lie). Bounded: PEER_CLAIMS_UNKNOWN claims per peer for authors this ledger
   * holds no feed of, and the PEER_NODES peers heard from last.
   */
  noteRemoteHeads(node: string, heads: Heads): void {
    this.writable();
    const at = this.now();
    this.write(() => {
      const known = !!this.stmt.peerKnown.get(node);
      this.stmt.forgetPeer.run(node);
      let unknown = 0;
      for (const [author, seq] of Object.entries(heads)) {
        if (!this.feeds.has(author) && ++unknown > PEER_CLAIMS_UNKNOWN) continue;
        this.stmt.peerHead.run(node, author, seq, at);
      }
      if (!known) {
        this.db.prepare(`DELETE FROM peers WHERE node IN (
          SELECT node FROM peers GROUP BY node ORDER BY max(seen_at) DESC, node LIMIT -1 OFFSET ${PEER_NODES})`).run();
      }
    });
  }

  /**
   * Clears what this node may have wrongly believed: the peers' claims (`peers`), entries
   * held for later (`pending`: all, or one author's), the quarantine. Nothing signed that the
   * feeds hold is touched; peers send held entries again when they apply. Returns how many
   * rows each cleared.
   */
  clear(what: { peers?: boolean; pending?: string | true; quarantine?: boolean }): { peers: number; pending: number; quarantine: number } {
    this.writable();
    const out = { peers: 0, pending: 0, quarantine: 0 };
    try {
      this.write(() => {
        if (what.peers) out.peers = this.db.prepare('DELETE FROM peers').run().changes;
        if (what.pending) out.pending = this.pending.clear(what.pending === true ? undefined : what.pending);
        if (what.quarantine) out.quarantine = this.quarantine.clear();
      });
    } finally {
      this.pending.forget();
      this.writableFeeds.clear();
    }
    return out;
  }

  /** Runs `fn` in a transaction; if it fails, the in-memory state is rebuilt from the file. */
  private write<R>(fn: () => R): R {
    try {
      const out = this.inTransaction(() => {
        return fn();
      }) as R;
      this.time.committed();
      this.committed();
      return out;
    } catch (err) {
      this.time.rolledBack();
      this.pending.forget();
      this.feeds = this.loadFeeds();
      this.state = this.loadState();
      this.time.recompute(this.coordinatorTime());
      this.unindexed = this.loadUnindexed();
      throw err;
    }
  }

  /**
   * Stores one verified entry in its feed and applies it. `hashHex` is given by append: the
   * entry is this node's own, stamped by its clock. A received entry's stamp is absorbed once
   * the transaction commits, unless it is too far ahead (node-time.ts); an entry this release
   * does not understand is stored inert and listed as held for a newer version (held.ts).
   */
  private storeEntry(p: Parsed, touched: Set<string>, hashHex?: string): void {
    const e = p.entry;
    const known = p.known ?? isKnownEntry(e);
    const pkey = known ? policyKeyOf(e) : null;
    const feed = this.feedFor(e.author);
    const stamp = hashHex === undefined ? this.time.received(e.hlc, this.isCoordinator(e.author, e.seq)) : e.hlc;
    this.stmt.insertEntry.run(feed.id, e.seq, feed.id, e.seq, p.hash, h8(p.hash), e.type, pkey, stamp.wall, stamp.logical, p.json);
    if (!known) this.held.hold(feed.id, e.seq);
    else if (pkey) {
      this.state.add(e, hashHex ?? toHex(p.hash));
      touched.add(pkey);
    }
    else if (isEventType(e.type)) this.recordEvent(feed.id, e);
  }

  /** An access event's row, and its place in the next batch of the access log's indexes. */
  private recordEvent(feed: number, e: AnyEntry): void {
    const b = e.body as { resource: string; member?: string | null; at: number; allow?: boolean };
    this.stmt.insertEvent.run(feed, e.seq, b.resource, b.member ?? null, b.at, b.allow === undefined ? null : b.allow ? 1 : 0);
    this.unindexed.push({ feed, seq: e.seq, member: b.member ?? null, resource: b.resource, at: b.at });
  }

  /** Is `author` an enrolled, unretired coordinator (whose stamps say what time it is)? */
  private isCoordinator(author: string, seq: number): boolean {
    return this.state.trustedNode(author, seq)?.role === 'coordinator' && !this.state.isForkedOut(author, seq);
  }

  /**
   * The newest time vouched for by the coordinators this node trusts: the stamp of each one's
   * newest entry it is trusted for (a feed's stamps only grow), read from the entry itself.
   */
  private coordinatorTime(): number {
    let time = 0;
    for (const key of this.state.keys('node/')) {
      const author = key.slice('node/'.length);
      const n = this.state.node(author);
      const feed = this.feeds.get(author);
      if (n?.role !== 'coordinator' || !feed) continue;
      let upTo = feed.seq;
      if (n.retired) upTo = Math.min(upTo, n.lastSeq ?? 0);
      const fork = this.state.forks().find((f) => f.author === author);
      if (fork) upTo = Math.min(upTo, fork.seq - 1);
      if (upTo < 1) continue;
      const row = this.stmt.entryAt.get(feed.id, upTo) as { json: string } | undefined;
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
  private materialise(touched: Set<string>, everything = false): void {
    if (touched.size === 0 && !everything) return;
    // A coordinator enrolled, retired or forked: the time it vouches for changes with it.
    if (everything || touched.has('admins') || [...touched].some((k) => k.startsWith('node/'))) this.time.recompute(this.coordinatorTime());
    const keys: Iterable<string> = everything || touched.has('admins') ? this.state.keys() : this.state.dependents(touched);
    for (const k of keys) {
      const value = this.state.valueOf(k);
      if (value === undefined) this.stmt.deletePolicy.run(k);
      else this.stmt.upsertPolicy.run(k, canonicalString(value), canonicalString(this.state.headHashes(k)));
    }
    if (everything || touched.has('admins')) {
      // keys whose every entry lost its authority
      const live = new Set(this.state.keys());
      for (const row of this.db.prepare('SELECT pkey FROM policy').all() as Array<{ pkey: string }>) {
        if (!live.has(row.pkey) || this.state.valueOf(row.pkey) === undefined) this.stmt.deletePolicy.run(row.pkey);
      }
    }
  }

  /**
   * Verifies and stores entries that arrived in any order: schema, canonical bytes, site,
   * signature and chain. An entry whose predecessor is missing waits in `pending`; a fork is
   * kept as proof and raises an alarm. Authority is not a reason to refuse an entry (it is part
   * of its author's feed and the authority may arrive later); an entry without it simply never
   * changes the state.
   */
  ingest(items: ReadonlyArray<AnyEntry | string>, opts: IngestOptions = {}): IngestResult {
    return this.ingestWith(items, (item, reject) => this.parse(item, reject), opts);
  }

  /**
   * Ingest of lines whose `checkLine` results were computed elsewhere (a worker: see
   * IngestPool). `checks[i]` is `lines[i]`'s hash, or its rejection.
   * @internal
   */
  ingestChecked(lines: readonly string[], checks: ReadonlyArray<CheckedLine>, opts: IngestOptions = {}): IngestResult {
    return this.ingestWith(lines.map((_, i) => i), (i, reject) => {
      const c = checks[i]!;
      if (c instanceof Uint8Array || 'hash' in c) {
        // The worker ran checkLine (envelope, canonical bytes); parsing again here is plain JSON.
        const entry = JSON.parse(lines[i]!) as AnyEntry;
        return c instanceof Uint8Array ? this.admit({ entry, json: lines[i]!, hash: c, known: true }, reject) : this.admit({ entry, json: lines[i]!, hash: c.hash, known: false }, reject);
      }
      reject(lines[i]!.slice(0, 65536), c.author, c.seq, c.code, c.reason);
      return null;
    }, opts);
  }

  private ingestWith<T>(items: readonly T[], parse: (item: T, reject: Reject) => Parsed | null, opts: IngestOptions): IngestResult {
    this.writable();
    this.writableFeeds.clear();
    const ctx = this.ingestContext();
    const byAuthor = new Map<string, Parsed[]>();
    // A line delivered again in one batch is checked once (a flood of one line costs one parse).
    const seen = new Map<string, { p: Parsed | null; rejected: Rejected[]; raw: QuarantineRow[] }>();
    const strangers = new Set<string>();
    for (const item of items) {
      let p: Parsed | null;
      const again = typeof item === 'string' ? seen.get(item) : undefined;
      if (again) {
        ctx.result.rejected.push(...again.rejected);
        ctx.quarantine.push(...again.raw);
        p = again.p;
        if (p) byAuthor.get(p.entry.author)!.push(p);
        continue;
      }
      if (typeof item === 'string' && this.cannotHold(item, strangers)) {
        ctx.result.dropped++;
        continue;
      }
      const [r0, q0] = [ctx.result.rejected.length, ctx.quarantine.length];
      try {
        p = parse(item, ctx.reject);
        if (typeof item === 'string') seen.set(item, { p, rejected: ctx.result.rejected.slice(r0), raw: ctx.quarantine.slice(q0) });
      } catch (err) {
        // Finding 3: no single entry may make the whole ingest throw.
        const raw = typeof item === 'string' ? item.slice(0, 65536) : safeJson(item);
        ctx.reject(raw, null, null, 'SCHEMA', `could not be read: ${(err as Error).message}`);
        continue;
      }
      if (!p) continue;
      let list = byAuthor.get(p.entry.author);
      if (!list) byAuthor.set(p.entry.author, (list = []));
      list.push(p);
    }
    const verify = opts.verify ?? 'each';
    this.write(() => {
      // Feeds that may be stored go first, again while storing them gives others authority
      // (an admin's node.enrol and that node's events in one batch); the rest are held.
      let rest = [...byAuthor.keys()];
      for (;;) {
        const ready = rest.filter((a) => this.mayStore(a, byAuthor.get(a)!));
        if (ready.length === 0) break;
        const done = new Set(ready);
        rest = rest.filter((a) => !done.has(a));
        for (const a of ready) this.ingestFeed(a, byAuthor.get(a)!, ctx, verify);
      }
      for (const a of rest) this.holdFeed(a, byAuthor.get(a)!, ctx);
      // A fork changes whose entries count, so who holds authority: record, drain, until still.
      do this.recordFindings(ctx);
      while (this.drainHeld(ctx, verify) && ctx.forkRows.length > 0);
      this.finishIngest(ctx);
      this.indexEvents();
    });
    return ctx.result;
  }

  /**
   * True for a line that could only be held and finds no room: its key has no feed, no
   * authority and nothing held, and the keys without authority (held, or `strangers` earlier in
   * this batch) fill their bound. Such a line is dropped unparsed, so a flood of throwaway keys
   * costs a regex per line, not a check.
   * (The author is the first "author" key: canonical bytes sort it first; a line that is not
   * canonical would be refused anyway. A genesis is never dropped.)
   */
  private cannotHold(line: string, strangers: Set<string>): boolean {
    const author = /^\{"author":"([0-9a-f]{64})"/.exec(line)?.[1];
    if (author === undefined || strangers.has(author) || this.feeds.has(author) || this.pending.isHeld(author) || line.includes('"type":"site.genesis"')) return false;
    if (this.authorityOf(author)) return false;
    if (this.pending.stats().unauthorisedAuthors + strangers.size < HELD_AUTHORS) {
      strangers.add(author);
      return false;
    }
    return true;
  }

  /** What one ingest (or the drain after an append) collects until its transaction ends. */
  private ingestContext(): IngestContext {
    const ctx: IngestContext = {
      result: emptyIngestResult(),
      quarantine: [],
      forkRows: [],
      touched: new Set(),
      everything: false,
      receivedAt: this.now(),
      reject: (raw, author, seq, code, reason) => {
        ctx.result.rejected.push({ author, seq, code, reason });
        ctx.quarantine.push({ author, seq, code, reason, raw });
      },
    };
    return ctx;
  }

  /**
   * May `author`'s entries be stored as a feed? Only a key that holds some authority (or
   * already has a feed here, or signs the genesis) gets one: a flood of throwaway keys must not
   * become feeds (issue 10, finding 13). Other keys' entries wait, verified, in pending.
   */
  private mayStore(author: string, list: readonly Parsed[]): boolean {
    // Authority is a prefix of a key's seqs (an until, a lastSeq): held at seq 1 or nowhere.
    if (this.feeds.has(author) || this.state.hasAuthorityAt(author, 1)) return true;
    return list.some((p) => p.entry.type === 'site.genesis' && p.entry.seq === 1 && toHex(p.hash) === this.site);
  }

  /** Named anywhere as an admin, a member's key or an enrolled node (PolicyState.hasAuthority). */
  private authorityOf(author: string): boolean {
    return this.state.hasAuthority(author);
  }

  /** Stores the contiguous run of one feed from its head; forks found are noted; the rest is held. */
  private ingestFeed(author: string, list: readonly Parsed[], ctx: IngestContext, verify: VerifyMode): void {
    const { result, reject } = ctx;
    const head = this.feeds.get(author);
    let seq = head?.seq ?? 0;
    let prev = head && head.seq > 0 ? head.hash : null;
    const ahead = new Map<number, PendingEntry[]>();
    this.pending.authorise(author);
    // Held entries first: they were verified when parked.
    const held = this.pending.rows(author);
    let stale = false;
    for (const p of [...held, ...list] as PendingEntry[]) {
      if (p.entry.seq <= seq) {
        const have = this.stmt.entryAt.get(head!.id, p.entry.seq) as { hash: Buffer; json: string };
        if (Buffer.compare(have.hash, p.hash) !== 0) ctx.forkRows.push({ p, original: have.hash });
        else if (!p.stored) {
          result.duplicates++;
          if (have.json !== p.json) this.repairSignature(head!.id, p, have.json);
        }
        if (p.stored) stale = true;
        continue;
      }
      const at = ahead.get(p.entry.seq);
      if (!at) ahead.set(p.entry.seq, [p]);
      else if (!at.some((q) => Buffer.compare(q.hash, p.hash) === 0)) at.push(p);
      else result.duplicates++;
    }
    if (stale) this.pending.deleteUpTo(author, seq);
    const stored = seq;
    // Walk the contiguous run from the head.
    const run: Parsed[] = [];
    for (;;) {
      const cands = ahead.get(seq + 1);
      if (!cands) break;
      let linked = cands.filter((c) => c.entry.prev === prev);
      if (seq === stored && seq > 0 && linked.length === 0 && this.takeOtherBranch(author, seq, cands, ctx)) {
        prev = this.feeds.get(author)!.hash;
        linked = cands.filter((c) => c.entry.prev === prev);
      }
      if (seq === stored && linked.length < cands.length) {
        // Next to the stored head an entry that names another prev can never apply: refused
        // (once: a held one is dropped). Further on it may link to another candidate of the seq
        // before it, so it keeps waiting, verified like the rest.
        for (const c of cands) {
          if (c.entry.prev === prev) continue;
          if (c.stored) this.pending.drop(author, c.entry.seq, c.hash);
          else reject(c.json, author, c.entry.seq, 'CHAIN_MISMATCH', `seq ${c.entry.seq} names prev ${String(c.entry.prev).slice(0, 12)}…, but the entry held for seq ${seq} has hash ${String(prev).slice(0, 12)}…`);
        }
        ahead.set(seq + 1, linked);
      }
      if (linked.length > 1) {
        // Several entries for one seq on the same prev: only validly signed ones count, so
        // a forged copy can neither displace the genuine entry nor pass as fork proof.
        const signed = linked.filter((c) => this.signatureOk(c));
        for (const c of linked) if (!signed.includes(c)) this.rejectBadSignature(c, reject);
        // The feed goes on with the entry the next one names (else the lowest hash): every
        // replica that holds the same entries then holds the same feed; the other is the proof.
        const after = new Set((ahead.get(seq + 2) ?? []).map((c) => c.entry.prev));
        signed.sort((x, y) => Number(after.has(toHex(y.hash))) - Number(after.has(toHex(x.hash))) || Buffer.compare(x.hash, y.hash));
        for (const c of signed.slice(1)) ctx.forkRows.push({ p: c, original: signed[0]!.hash });
        linked = signed.slice(0, 1);
      }
      const next = linked[0];
      if (!next) break;
      ahead.delete(seq + 1);
      run.push(next);
      seq += 1;
      prev = toHex(next.hash);
    }
    const checked = this.checkRun(run, verify, reject);
    const good = this.storeTrusted(author, checked, ctx.touched);
    if (good.length) {
      const last = good[good.length - 1]!;
      this.setHead(author, last.entry.seq, last.hash);
      this.pending.deleteUpTo(author, last.entry.seq);
      result.accepted += good.length;
    }
    // Entries past the key's authority, and those past a bad signature in the run (verified one
    // by one), wait again with the rest.
    const rest = [...checked.slice(good.length), ...run.slice(checked.length).slice(1), ...[...ahead.values()].flat()];
    this.park(author, rest, this.heldFrom(author, rest), ctx);
  }

  /**
   * Stores the verified run while `author` holds authority at each seq, and returns what it
   * stored. Past its last such seq (a retired node's lastSeq, an admin's or member key's
   * until) entries count for nothing: they are held apart and bounded like those of a key
   * without authority, else a stolen retired key would grow every replica without end. The
   * site's genesis gives its author the authority the rest of its run needs; an admin's
   * `admins.change` may end its own (each seq after it is checked against the state it left,
   * so a replica that gets the run in one piece stores what one that got it in parts does).
   */
  private storeTrusted(author: string, run: readonly Parsed[], touched: Set<string>): Parsed[] {
    if (run.length === 0) return [];
    const lastSeq = run[run.length - 1]!.entry.seq;
    let lastAdmins = -1;
    run.forEach((p, i) => policyKeyOf(p.entry) === 'admins' && (lastAdmins = i));
    // Authority is a prefix of seqs: held at the last seq, it is held at every one before.
    let all = lastAdmins < 0 && this.state.hasAuthorityAt(author, lastSeq);
    let n = 0;
    for (const p of run) {
      const genesis = p.entry.seq === 1 && p.entry.type === 'site.genesis' && toHex(p.hash) === this.site;
      if (!all && !genesis && !this.state.hasAuthorityAt(author, p.entry.seq)) break;
      this.storeEntry(p, touched);
      if (n++ === lastAdmins) all = this.state.hasAuthorityAt(author, lastSeq);
    }
    return run.slice(0, n);
  }

  /** The lowest of `cands`' seqs where `author` holds no authority (pending.ts `heldFrom`). */
  private heldFrom(author: string, cands: readonly PendingEntry[]): number {
    if (cands.length === 0) return Infinity;
    const seqs = [...new Set(cands.map((c) => c.entry.seq))].sort((a, b) => a - b);
    if (this.state.hasAuthorityAt(author, seqs[seqs.length - 1]!)) return Infinity;
    return seqs.find((s) => !this.state.hasAuthorityAt(author, s))!;
  }

  /**
   * At a fork the feed goes on with the entry the next one names: when the entries after this
   * ledger's head `seq` name another entry it holds there as fork proof (recorded, or found in
   * this ingest), that entry becomes the feed's and the stored one the proof. Both are untrusted
   * from the fork on, so nothing changes but the feed, which then agrees with its peers' (heads
   * equal, sync goes quiet). Returns whether the feed's entry at `seq` was swapped.
   */
  private takeOtherBranch(author: string, seq: number, next: readonly Parsed[], ctx: IngestContext): boolean {
    const named = new Set(next.map((c) => c.entry.prev));
    const f = this.feeds.get(author)!;
    let twin: Parsed | undefined;
    const pending = ctx.forkRows.findIndex(({ p }) => p.entry.author === author && p.entry.seq === seq && named.has(toHex(p.hash)) && this.signatureOk(p));
    if (pending >= 0) twin = ctx.forkRows.splice(pending, 1)[0]!.p;
    else {
      const row = (this.db.prepare('SELECT hash, json FROM forks WHERE author = ? AND seq = ?').all(author, seq) as Array<{ hash: Buffer; json: string }>)
        .find((r) => named.has(r.hash.toString('hex')));
      if (row) twin = { entry: JSON.parse(row.json) as AnyEntry, json: row.json, hash: new Uint8Array(row.hash) };
    }
    if (!twin) return false;
    const old = this.stmt.entryAt.get(f.id, seq) as { hash: Buffer; json: string };
    const oldEntry = JSON.parse(old.json) as AnyEntry;
    // Out with the stored entry's rows (its event, index rows, held mark), in with the twin's.
    const b = oldEntry.body as { resource?: string; member?: string | null; at?: number };
    const id = (t: string, cols: string) => this.db.prepare(`DELETE FROM ${t} WHERE ${cols} AND id = ${entryIdSql('?', '?')}`);
    if (typeof b.at === 'number' && typeof b.resource === 'string') {
      id('events', 'at = ?').run(b.at, f.id, seq);
      id('events_by_resource', 'resource = ? AND at = ?').run(b.resource, b.at, f.id, seq);
      if (typeof b.member === 'string') id('events_by_member', 'member = ? AND at = ?').run(b.member, b.at, f.id, seq);
      this.unindexed = this.unindexed.filter((ev) => !(ev.feed === f.id && ev.seq === seq));
    }
    this.held.release(f.id, seq);
    this.db.prepare(`DELETE FROM entries WHERE id = ${entryIdSql('?', '?')}`).run(f.id, seq);
    this.db.prepare('DELETE FROM forks WHERE author = ? AND seq = ? AND hash = ?').run(author, seq, twin.hash);
    this.storeEntry(twin, ctx.touched);
    this.setHead(author, seq, twin.hash);
    ctx.forkRows.push({ p: { entry: oldEntry, json: old.json, hash: new Uint8Array(old.hash) }, original: twin.hash });
    ctx.everything = true;
    return true;
  }

  /** Holds the entries of a key without authority (bounded apart: pending.ts). */
  private holdFeed(author: string, list: readonly Parsed[], ctx: IngestContext): void {
    if (!this.pending.mayHold(author)) {
      ctx.result.dropped += list.length; // a flood of throwaway keys costs no query per key
      return;
    }
    this.park(author, [...this.pending.rows(author), ...list], 1, ctx);
  }

  private park(author: string, cands: PendingEntry[], heldFrom: number, ctx: IngestContext): void {
    if (cands.length === 0) return;
    const verified = (c: PendingEntry) => {
      if (this.signatureOk(c)) return true;
      this.rejectBadSignature(c, ctx.reject);
      return false;
    };
    const { waiting, dropped, forks } = this.pending.park(author, cands, heldFrom, verified, ctx.receivedAt);
    ctx.result.waiting += waiting;
    ctx.result.dropped += dropped;
    ctx.forkRows.push(...forks);
  }

  /**
   * Stores the held entries of keys that have gained authority at their lowest held seq (an
   * enrolment, a member's key, an admin), until no more do. Runs after any write that changed
   * such keys.
   */
  private drainHeld(ctx: IngestContext, verify: VerifyMode): boolean {
    if (!ctx.everything && ![...ctx.touched].some(grantsAuthority)) return false;
    // Each pass takes its authors out of the held set (ingestFeed authorises them): it ends.
    let drained = false;
    for (;;) {
      // What ingestFeed leaves held is past the key's authority, so a pass ends with it.
      const ready = this.pending.heldAuthors().filter((a) => this.state.hasAuthorityAt(a, this.pending.firstHeld(a) ?? 1));
      if (ready.length === 0) return drained;
      for (const a of ready) this.ingestFeed(a, [], ctx, verify);
      drained = true;
    }
  }

  /** After an append: drains what its keys released (drainHeld); true if a fork was found. */
  private releaseHeld(touched: Set<string>): boolean {
    if (![...touched].some(grantsAuthority)) return false;
    const ctx = this.ingestContext();
    ctx.touched = touched;
    this.drainHeld(ctx, 'each');
    this.recordFindings(ctx);
    return ctx.everything;
  }

  /** Records the forks found and the quarantine, and materialises: the end of every ingest. */
  private finishIngest(ctx: IngestContext): void {
    this.recordFindings(ctx);
    this.materialise(ctx.touched, ctx.everything);
  }

  private recordFindings(ctx: IngestContext): void {
    for (const { p, original } of ctx.forkRows) {
      // Only a validly signed second entry is proof; anything else would let a forger freeze a feed.
      if (!this.signatureOk(p)) {
        this.rejectBadSignature(p, ctx.reject);
        continue;
      }
      // Proof enough, and bounded: a feed is untrusted from its lowest forked seq on, so entries
      // at later seqs add nothing, nor do more than FORK_PROOFS_PER_SEQ at one seq (a forker can
      // sign any number). Known proof changes nothing (sync may bring it again).
      const bound = this.stmt.forkBound.get({ author: p.entry.author, seq: p.entry.seq }) as { low: number | null; here: number };
      if ((bound.low !== null && p.entry.seq > bound.low) || bound.here >= FORK_PROOFS_PER_SEQ
        || this.stmt.insertFork.run(p.entry.author, p.entry.seq, p.hash, p.json, ctx.receivedAt).changes === 0) {
        ctx.result.duplicates++;
        continue;
      }
      this.noteFork(this.state, p.entry, p.hash, original);
      ctx.result.forks.push({ author: p.entry.author, seq: p.entry.seq });
      ctx.everything = true;
    }
    ctx.forkRows = [];
    this.quarantine.record(ctx.quarantine, ctx.receivedAt);
    ctx.quarantine = [];
  }

  /**
   * An item as an entry, or its rejection. A string goes through checkLine, the one check of
   * received bytes; an object is encoded canonically first and then checked as those bytes, so
   * both refuse the same entries for the same reasons.
   */
  private parse(item: AnyEntry | string, reject: Reject): Parsed | null {
    let text: string;
    if (typeof item === 'string') text = item;
    else {
      try {
        text = canonicalString(item);
      } catch (err) {
        const { author, seq } = (item ?? {}) as { author?: unknown; seq?: unknown };
        reject(safeJson(item), typeof author === 'string' ? author : null, typeof seq === 'number' ? seq : null, 'NON_CANONICAL', (err as Error).message);
        return null;
      }
    }
    const c = checkLine(text, this.crypto);
    if (!c.ok) {
      reject(text.slice(0, 65536), c.author, c.seq, c.code, c.reason);
      return null;
    }
    return this.admit({ entry: c.entry, json: text, hash: c.hash, known: c.known }, reject);
  }

  /** The checks that need this ledger: site and clock. */
  private admit(p: Parsed, reject: Reject): Parsed | null {
    const { entry, json, hash } = p;
    const siteOk = entry.type === 'site.genesis' ? toHex(hash) === this.site : entry.site === this.site;
    if (!siteOk) {
      reject(json, entry.author, entry.seq, 'WRONG_SITE', `entry is for site ${(entry.site || toHex(hash)).slice(0, 16)}…, this ledger is ${this.site.slice(0, 16)}…`);
      return null;
    }
    // Far ahead of `now` (node-time.ts) is refused, but for a restrictive entry (a node obeys a
    // suspension whatever its stamp) and a coordinator's within a year, whose stamps say what
    // time it is (DESIGN §10). Neither moves the clock further than `now` allows.
    if (this.time.isTooFarAhead(entry.hlc) && !(p.known !== false && isRestrictive(entry)) && !(this.isCoordinator(entry.author, entry.seq) && this.time.believable(entry.hlc))) {
      reject(json, entry.author, entry.seq, 'CLOCK_AHEAD', `stamped ${new Date(entry.hlc.wall).toISOString()}, more than ${this.clock.maxDriftMs / 1000} s ahead of this node's time (${new Date(this.now()).toISOString()}); check the author's clock (NTP)`);
      return null;
    }
    return p;
  }

  /**
   * The same entry (same hash) with other bytes: only its `sig` can differ. A run verified in
   * 'batch' mode checks the newest signature only, so a relay may have got an inner entry stored
   * with a damaged one; the genuine copy replaces it, so what this ledger serves verifies.
   */
  private repairSignature(feed: number, p: Parsed, storedJson: string): void {
    const stored = { entry: JSON.parse(storedJson) as AnyEntry, json: storedJson, hash: p.hash };
    if (this.signatureOk(p) && !this.signatureOk(stored)) this.stmt.repairJson.run(p.json, feed, p.entry.seq);
  }

  /** Signature checks for a contiguous run of one feed; returns the prefix that passed. */
  private checkRun(run: Parsed[], mode: VerifyMode, reject: Reject): Parsed[] {
    if (run.length === 0) return run;
    const sigOk = (p: Parsed) => this.signatureOk(p);
    if (mode === 'batch' && sigOk(run[run.length - 1]!)) return run;
    for (let i = 0; i < run.length; i++) {
      const p = run[i]!;
      if (!sigOk(p)) {
        this.rejectBadSignature(p, reject);
        return run.slice(0, i);
      }
    }
    return run;
  }

  private rejectBadSignature(p: Parsed, reject: Reject): void {
    // Bytes were proven canonical on arrival (checkLine), so a failure here is the signature's.
    const { author, seq } = p.entry;
    reject(p.json, author, seq, 'BAD_SIGNATURE', `signature of seq ${seq} by ${author.slice(0, 12)}… does not verify; entries after it wait for a good copy`);
  }

  private signatureOk(p: Parsed): boolean {
    return this.crypto.verify(fromHex(p.entry.author), signingMessage(p.hash), fromHex(p.entry.sig));
  }

  // ---- reading ---------------------------------------------------------------------------

  /**
   * Feed heads: author → highest contiguous seq held, up to the key's last seq with authority.
   * Entries past it count for nothing and are held apart when they arrive, but a replica that
   * stored some before it learned of a retirement (or a member key's withdrawal) keeps them:
   * announcing them would make peers that hold them apart ask for them every round. So heads
   * agree and sync goes quiet.
   */
  heads(): Heads {
    this.flush(); // heads are announced to peers: nothing unsynced may be claimed
    const out: Heads = {};
    for (const author of [...this.feeds.keys()].sort()) {
      const seq = this.trustedHead(author, this.feeds.get(author)!.seq);
      if (seq > 0) out[author] = seq;
    }
    return out;
  }

  /**
   * The highest seq up to `seq` where `author` holds authority (a prefix of its seqs), or 0.
   * Not for an admin's key: its withdrawal may be its own entry past its new `until`, which
   * counts, so its feed is announced whole.
   */
  private trustedHead(author: string, seq: number): number {
    if (seq === 0 || this.state.hasAuthorityAt(author, seq) || this.state.isAdminKey(author, 1)) return seq;
    let [lo, hi] = [0, seq]; // authority at lo (0: none needed), none at hi
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.state.hasAuthorityAt(author, mid)) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  /** The ranges a peer with `theirs` lacks and this ledger can send. */
  missing(theirs: Heads): SeqRange[] {
    return rangesAhead(this.heads(), theirs);
  }

  /** Canonical encodings of `author`'s entries from `fromSeq`, in feed order. */
  readEncoded(author: string, fromSeq: number, limit: number): string[] {
    const feed = this.feeds.get(author);
    if (!feed) return [];
    this.flush(); // what is read may be published (sync, export): it must survive a power cut
    return (this.stmt.read.all(feed.id, fromSeq, feed.id, limit) as Array<{ json: string }>).map((r) => r.json);
  }

  read(author: string, fromSeq: number, limit: number): AnyEntry[] {
    return this.readEncoded(author, fromSeq, limit).map((j) => JSON.parse(j) as AnyEntry);
  }

  /** Every entry of every feed (or one author's), in feed order: for export. */
  *iterateEncoded(author?: string): IterableIterator<string> {
    this.flush();
    const rows = author
      ? this.db.prepare(`SELECT e.json FROM feeds f JOIN entries e ON ${inFeedSql('f.id', 'e.id')} WHERE f.author = ? ORDER BY e.id`).iterate(author)
      : this.db.prepare('SELECT json FROM entries ORDER BY id').iterate();
    for (const r of rows as Iterable<{ json: string }>) yield r.json;
  }

  /**
   * The second (third…) signed entries found at a seq of a feed, as canonical lines: the fork
   * proofs, which the feeds themselves do not hold (their entry at that seq is the one held
   * first). For export, after the feeds; with `at`, only that seq, headed by the feed's own
   * entry there, so a peer holding neither gets both halves of the proof (sync).
   */
  forkProofs(author?: string, at?: number): string[] {
    this.flush(); // proofs leave the ledger like entries do
    const rows = (author === undefined
      ? this.db.prepare('SELECT json FROM forks ORDER BY author, seq, hash').all()
      : at === undefined
        ? this.db.prepare('SELECT json FROM forks WHERE author = ? ORDER BY seq, hash').all(author)
        : this.db.prepare('SELECT json FROM forks WHERE author = ? AND seq = ? ORDER BY hash').all(author, at)) as Array<{ json: string }>;
    const lines = rows.map((r) => r.json);
    if (author !== undefined && at !== undefined && lines.length) lines.unshift(...this.readEncoded(author, at, 1));
    return lines;
  }

  /**
   * Author → the lowest seq at which this ledger holds a fork of that feed and how many entries
   * it holds there (what a `have` announces, so a peer sends the proofs this replica lacks). At
   * most `limit` authors: those whose keys hold some authority first (their forks change
   * decisions), then by key.
   */
  forkClaims(limit: number): Record<string, { seq: number; entries: number }> {
    const forks = this.state.forks();
    if (forks.length > limit) {
      const rank = (a: string) => (this.state.hasAuthority(a) ? 0 : 1);
      forks.sort((x, y) => rank(x.author) - rank(y.author) || (x.author < y.author ? -1 : 1));
      forks.length = limit;
    }
    return Object.fromEntries(forks.map((f) => [f.author, { seq: f.seq, entries: f.hashes.length }]));
  }

  findByHash(hash: string): AnyEntry | undefined {
    const bytes = fromHex(hash);
    // Policy entries through the h8 index; access events (not indexed by hash) by a scan.
    const rows = this.db.prepare('SELECT hash, json FROM entries WHERE h8 = ? AND pkey IS NOT NULL').all(h8(bytes)) as Array<{ hash: Buffer; json: string }>;
    const row = rows.find((r) => Buffer.compare(r.hash, bytes) === 0)
      ?? (this.db.prepare('SELECT hash, json FROM entries WHERE hash = ?').get(bytes) as { hash: Buffer; json: string } | undefined);
    return row ? (JSON.parse(row.json) as AnyEntry) : undefined;
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM entries').get() as { n: number }).n;
  }

  // ---- state queries -----------------------------------------------------------------------

  memberByCard(uid: string): { card: CardValue | undefined; member: MemberValue | undefined } {
    const card = this.state.card(uid);
    return { card, member: card?.state === 'bound' ? this.state.member(card.member) : undefined };
  }

  member(id: string): MemberValue | undefined {
    return this.state.member(id);
  }

  members(): MemberValue[] {
    return this.values<MemberValue>('member/');
  }

  certifications(member: string): CertValue[] {
    return this.values<CertValue>(`cert/${member}/`).filter((c) => c.granted);
  }

  resources(): ResourceValue[] {
    return this.values<ResourceValue>('resource/');
  }

  nodes(): NodeValue[] {
    return this.values<NodeValue>('node/');
  }

  /** Materialised values from the `policy` table (what a dashboard reads). */
  private values<V>(prefix: string): V[] {
    return (this.db.prepare('SELECT value FROM policy WHERE pkey >= ? AND pkey < ? ORDER BY pkey').all(prefix, prefix + '\uffff') as Array<{ value: string }>)
      .map((r) => JSON.parse(r.value) as V);
  }

  /** The materialised `policy` table as { key: { value, heads } } (tests compare it with a recompute). */
  materialised(): Record<string, { value: unknown; heads: string[] }> {
    const out: Record<string, { value: unknown; heads: string[] }> = {};
    for (const r of this.db.prepare('SELECT pkey, value, heads FROM policy ORDER BY pkey').all() as Array<{ pkey: string; value: string; heads: string }>) {
      out[r.pkey] = { value: JSON.parse(r.value), heads: JSON.parse(r.heads) };
    }
    return out;
  }

  conflicts(): Conflict[] {
    return this.state.conflicts();
  }

  forks(): Fork[] {
    return this.state.forks();
  }

  /** Refused entries, newest first; `count` is how many times that exact line was delivered. */
  quarantined(limit = 100): Array<{ id: number; receivedAt: number; lastSeen: number; count: number; author: string | null; seq: number | null; code: string; reason: string }> {
    return (this.db.prepare('SELECT id, received_at, last_seen, count, author, seq, code, reason FROM quarantine ORDER BY id DESC LIMIT ?').all(limit) as Array<Record<string, unknown>>)
      .map((r) => ({
        id: r.id as number, receivedAt: r.received_at as number, lastSeen: r.last_seen as number, count: r.count as number,
        author: r.author as string | null, seq: r.seq as number | null, code: r.code as string, reason: r.reason as string,
      }));
  }

  /** Entries waiting in pending (pending.ts): how many, and of how many keys without authority. */
  pendingStats(): { entries: number; unauthorisedAuthors: number } {
    return this.pending.stats();
  }

  alarms(): Alarm[] {
    const out: Alarm[] = [];
    for (const f of this.forks()) out.push({ kind: 'fork', message: `feed ${f.author.slice(0, 12)}… forked at seq ${f.seq}: its entries from there on are not trusted until an admin acts`, detail: { ...f } });
    for (const c of this.conflicts()) out.push({ kind: 'conflict', message: `${c.key} was changed concurrently; the safe outcome applies until an admin resolves it`, detail: { ...c } });
    const q = (this.db.prepare('SELECT count(*) AS n FROM quarantine').get() as { n: number }).n;
    if (q) out.push({ kind: 'quarantine', message: `${q} received entries were refused; see the quarantine`, detail: { count: q } });
    const held = this.held.byType();
    const n = Object.values(held).reduce((a, b) => a + b, 0);
    if (n) out.push({ kind: 'held', message: `${n} entries are held for a newer version of Keymesh (${Object.keys(held).join(', ')}); upgrade this node to apply them`, detail: { count: n, types: held } });
    return out;
  }

  /** Entries each known peer announced that this ledger does not hold yet, by peer. */
  syncLag(): Record<string, number> {
    const rows = this.db.prepare(`
      SELECT p.node AS node, sum(max(p.seq - coalesce((SELECT max(e.id) FROM entries e WHERE ${inFeedSql('f.id', 'e.id')}) & ${2 ** SEQ_BITS - 1}, 0), 0)) AS lag
      FROM peers p LEFT JOIN feeds f ON f.author = p.author GROUP BY p.node ORDER BY p.node`).all() as Array<{ node: string; lag: number }>;
    return Object.fromEntries(rows.map((r) => [r.node, r.lag]));
  }

  /**
   * The access log, newest first, filtered by member, resource and time range, in pages. Only
   * events whose node was trusted for that resource are listed.
   */
  accessLog(q: AccessLogQuery = {}): { rows: AccessLogRow[]; next: string | null } {
    const limit = Math.min(Math.max(q.limit ?? 50, 1), 1000);
    // By member or by resource through its index table (schema 4), once it holds every event; a
    // read-only ledger cannot complete it, and scans the events instead.
    let by = q.member !== undefined ? { table: 'events_by_member', col: 'member', value: q.member }
      : q.resource !== undefined ? { table: 'events_by_resource', col: 'resource', value: q.resource } : null;
    if (by && this.unindexed.length) {
      if (this.readonly) by = null;
      else this.write(() => this.indexEvents());
    }
    const x = by ? 'x' : 'ev'; // the table the order and the cursor come from
    const where: string[] = [];
    const args: unknown[] = [];
    if (by) (where.push(`x.${by.col} = ?`), args.push(by.value));
    if (q.member !== undefined && by?.col !== 'member') (where.push('ev.member = ?'), args.push(q.member));
    if (q.resource !== undefined && by?.col !== 'resource') (where.push('ev.resource = ?'), args.push(q.resource));
    if (q.from !== undefined) (where.push(`${x}.at >= ?`), args.push(q.from));
    if (q.to !== undefined) (where.push(`${x}.at < ?`), args.push(q.to));
    if (q.before) {
      // The id stays text: ids pass 2^53 (schema.ts, SEQ_BITS); SQLite compares it as an integer.
      const [at, id] = q.before.split(':');
      where.push(`(${x}.at < ? OR (${x}.at = ? AND ${x}.id < ?))`);
      args.push(Number(at), Number(at), id);
    }
    const sql = `SELECT CAST(ev.id AS TEXT) AS id, f.author, e.seq, e.hash, e.type, ev.resource, ev.member, ev.at, ev.allow, e.json
      FROM ${by ? `${by.table} x JOIN events ev ON ev.at = x.at AND ev.id = x.id` : 'events ev'} JOIN entries e ON e.id = ev.id JOIN feeds f ON f.id = e.feed
      ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY ${x}.at DESC, ${x}.id DESC LIMIT ?`;
    const rows: AccessLogRow[] = [];
    let cursor = '';
    let offset = 0;
    // Untrusted rows are skipped, so read until the page is full.
    while (rows.length < limit) {
      const batch = this.db.prepare(sql + ' OFFSET ?').all(...args, limit * 2, offset) as Array<Record<string, unknown>>;
      offset += batch.length;
      for (const r of batch) {
        cursor = `${r.at as number}:${r.id as string}`;
        if (!this.state.eventIsTrusted(r.author as string, r.seq as number, r.resource as string)) continue;
        rows.push({
          author: r.author as string, seq: r.seq as number, hash: (r.hash as Buffer).toString('hex'), type: r.type as EntryType,
          resource: r.resource as string, member: r.member as string | null, at: r.at as number,
          allow: r.allow === null ? null : r.allow === 1, detail: eventDetail(r.json as string),
        });
        if (rows.length === limit) break;
      }
      if (batch.length < limit * 2) break;
    }
    return { rows, next: rows.length === limit ? cursor : null };
  }

  /** Hash of the canonical materialised state: two replicas with equal digests agree. */
  digest(): string {
    return this.state.digest();
  }

  /**
   * Checks the file and every stored entry from scratch: every page (SQLite's quick_check),
   * canonical bytes, schema, hash links, signatures, site, gaps. For `keymesh-ledger verify`
   * and forensics (what an open does not read: checkOnOpen); returns every problem found.
   */
  verify(onProgress?: (done: number, total: number) => void): Array<{ author: string; seq: number; reason: string }> {
    this.live();
    const problems: Array<{ author: string; seq: number; reason: string }> = [];
    // Every page of the file first: an open checks only what a crash can damage (checkOnOpen).
    // Problems of the file itself are reported under the author '(file)'.
    const file = (reason: string) => problems.push({ author: '(file)', seq: 0, reason });
    try {
      for (const r of this.db.pragma('quick_check') as Array<{ quick_check: string }>) if (r.quick_check !== 'ok') file(`SQLite quick_check: ${r.quick_check}`);
    } catch (err) {
      file(`SQLite quick_check failed: ${(err as Error).message}`);
    }
    try {
      this.verifyEntries(problems, onProgress);
    } catch (err) {
      // A damaged page can stop the walk through the entries: what was found so far stands.
      file(`reading the entries failed: ${(err as Error).message}`);
    }
    return problems;
  }

  private verifyEntries(problems: Array<{ author: string; seq: number; reason: string }>, onProgress?: (done: number, total: number) => void): void {
    const total = this.count();
    let done = 0;
    let author = '';
    let prev: string | null = null;
    let expect = 1;
    for (const row of this.db.prepare(`SELECT f.author, e.seq, e.hash, e.json FROM feeds f JOIN entries e ON ${inFeedSql('f.id', 'e.id')} ORDER BY f.author, e.id`).iterate() as Iterable<{ author: string; seq: number; hash: Buffer; json: string }>) {
      if (row.author !== author) {
        author = row.author;
        prev = null;
        expect = 1;
      }
      const fail = (reason: string) => problems.push({ author: row.author, seq: row.seq, reason });
      if (row.seq !== expect) fail(`gap: expected seq ${expect}`);
      expect = row.seq + 1;
      let e: AnyEntry;
      try {
        e = decodeEntry(row.json);
      } catch (err) {
        fail((err as Error).message);
        prev = row.hash.toString('hex');
        continue;
      }
      const hash = entryHashBytes(e, this.crypto);
      if (Buffer.compare(Buffer.from(hash), row.hash) !== 0) fail('stored hash does not match the content');
      if (e.author !== row.author || e.seq !== row.seq) fail('stored author/seq do not match the content');
      if (e.prev !== prev) fail(`prev ${String(e.prev).slice(0, 12)}… does not match the hash of seq ${row.seq - 1}`);
      if (!this.crypto.verify(fromHex(e.author), signingMessage(hash), fromHex(e.sig))) fail('signature does not verify');
      if (e.type === 'site.genesis' ? toHex(hash) !== this.site : e.site !== this.site) fail('entry is for another site');
      prev = toHex(hash);
      if (++done % 10000 === 0) onProgress?.(done, total);
    }
    for (const f of this.forks()) problems.push({ author: f.author, seq: f.seq, reason: `fork: ${f.hashes.length} different signed entries for this seq` });
    for (const h of this.gappedFeeds(-1)) problems.push({ author: h.author, seq: h.seq, reason: `the feed's head is seq ${h.seq} but ${h.n} entries are stored (entries are missing)` });
    onProgress?.(total, total);
  }
}

/** An access event's body without the fields the events table indexes. */
function eventDetail(json: string): Record<string, unknown> {
  const { resource: _r, member: _m, at: _a, allow: _l, ...rest } = (JSON.parse(json) as { body: Record<string, unknown> }).body;
  return rest;
}

/** Ranges of feeds where `ahead` holds more than `behind`. */
export function rangesAhead(ahead: Heads, behind: Heads): SeqRange[] {
  const out: SeqRange[] = [];
  for (const [author, seq] of Object.entries(ahead)) {
    const have = behind[author] ?? 0;
    if (seq > have) out.push({ author, from: have + 1, to: seq });
  }
  return out;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v).slice(0, 65536);
  } catch {
    return String(v).slice(0, 1000);
  }
}

