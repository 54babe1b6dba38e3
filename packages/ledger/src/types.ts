/** The ledger's public option, result and query types (re-exported by ledger.ts). */
import type { EntryType, Heads, SeqRange, CryptoProvider } from '@keymesh/protocol';
import type { RejectCode } from './errors.js';

export interface LedgerOptions {
  /** Site id (hash of the genesis entry). A ledger trusts nothing that does not chain to it. */
  site: string;
  crypto?: CryptoProvider;
  /** Wall clock (ms); tests pass their own. */
  now?: () => number;
  /** When commits reach the disk: see the comment at the top of ledger.ts. Default 'group'. */
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

/** Ranges of feeds where `ahead` holds more than `behind`. */
export function rangesAhead(ahead: Heads, behind: Heads): SeqRange[] {
  const out: SeqRange[] = [];
  for (const [author, seq] of Object.entries(ahead)) {
    const have = behind[author] ?? 0;
    if (seq > have) out.push({ author, from: have + 1, to: seq });
  }
  return out;
}
