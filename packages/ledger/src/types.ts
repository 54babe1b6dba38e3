/** The ledger's public option, result and query types (re-exported by ledger.ts). */
import type { EntryType, CryptoProvider } from '@keymesh/protocol';
import type { RejectCode } from './errors.js';

export interface LedgerOptions {
  /** Site id (hash of the genesis entry). A ledger trusts nothing that does not chain to it. */
  site: string;
  crypto?: CryptoProvider;
  /** Wall clock (ms); tests pass their own. */
  now?: () => number;
  /** When commits reach the disk: see `Durability`. Default 'group'. */
  durability?: Durability;
  /** In 'group' mode, the longest a commit waits for its fsync, in ms. Default 10. */
  groupCommitMs?: number;
  /** Entries stamped further than this ahead of local time are quarantined. */
  maxDriftMs?: number;
  /**
   * SQLite's page cache for this connection, in KiB (default DEFAULT_PAGE_CACHE_KIB, 32 MiB:
   * keeps the access-log indexes' hot pages in memory on a coordinator). An edge node passes
   * less: the cache fills as a catch-up is served and stays in its RSS (DESIGN §12: 150 MB).
   */
  pageCacheKiB?: number;
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

/** The default of `LedgerOptions.pageCacheKiB` (SQLite's own default is 2,000 KiB). */
export const DEFAULT_PAGE_CACHE_KIB = 32_768;
/** The smallest `pageCacheKiB` accepted: a few pages of every B-tree a commit touches. */
export const MIN_PAGE_CACHE_KIB = 256;

export const DURABILITIES = ['group', 'each', 'process'] as const;
/**
 * When commits reach the disk (DESIGN §4, §10). Every append and ingest is one SQLite
 * transaction in WAL mode, so a kill -9 at any moment loses nothing that was committed: the
 * commit is in the WAL, which the OS holds when the process dies. A power cut keeps only what
 * was fsynced, and an entry must survive it before anyone else sees it, or a node that lost its
 * last entries would re-sign their seqs with other content and fork its own feed.
 *
 * 'group' (the default) is group commit: transactions commit with `synchronous = NORMAL` (no
 * fsync), and one fsync of the WAL makes every commit so far durable. A worker thread runs that
 * fsync once the oldest commit it does not yet cover is `groupCommitMs` old, so appends never
 * wait for the disk (group-commit.ts). Before any entry or head leaves the ledger (read,
 * readEncoded, iterateEncoded, heads, headOf, submit: what sync publishes), on `flush()` and on
 * `close()`, the caller's thread fsyncs whatever is still pending. So a power cut can take only
 * what nobody has seen yet: the same as a cut a moment before the commit. An fsync per commit
 * on the caller's thread costs appends a large share of their time (bench/RESULTS.md, ledger).
 * 'each' fsyncs every commit before it returns (`synchronous = FULL`), for callers that hand
 * entries to the outside world without going through the ledger. 'process' never fsyncs but at
 * checkpoints: commits survive a crash of the process, not of the machine (tests; hosts whose
 * storage has its own power backup).
 */
export type Durability = (typeof DURABILITIES)[number];

export interface DurabilityStats {
  durability: Durability;
  commits: number;
  fsyncs: number;
  /** Commits not yet fsynced. */
  unsynced: number;
  checkpoints: number;
}

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
  /**
   * The policy keys whose values this ingest rewrote (`member/<id>`, `cert/<member>/<resource>`,
   * `lockout/<resource>` …): an edge ends a running session when its member's or its machine's
   * key is among them and the decision changed. May name keys whose value came out the same.
   */
  changed: string[];
}

export function emptyIngestResult(): IngestResult {
  return { accepted: 0, duplicates: 0, waiting: 0, dropped: 0, rejected: [], forks: [], changed: [] };
}

/** Adds `r` into `total` (ingests done in parts: a worker pool's batches, a batch line by line). */
export function addIngestResult(total: IngestResult, r: IngestResult): IngestResult {
  total.accepted += r.accepted;
  total.duplicates += r.duplicates;
  total.waiting += r.waiting;
  total.dropped += r.dropped;
  total.rejected.push(...r.rejected);
  total.forks.push(...r.forks);
  if (r.changed.length) {
    const seen = new Set(total.changed);
    for (const k of r.changed) if (!seen.has(k)) (seen.add(k), total.changed.push(k));
  }
  return total;
}

/** A refused entry kept in the quarantine; `count` is how many times that exact line was delivered. */
export interface QuarantinedEntry {
  id: number;
  receivedAt: number;
  lastSeen: number;
  count: number;
  author: string | null;
  seq: number | null;
  code: string;
  reason: string;
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

/** Fork proofs kept per (author, seq) besides the feed's own entry there (sync.ts sends them all). */
export const FORK_PROOFS_PER_SEQ = 3;

/** Bounds of the peers' claims (noteRemoteHeads). */
export const PEER_CLAIMS_UNKNOWN = 256;
export const PEER_NODES = 256;

