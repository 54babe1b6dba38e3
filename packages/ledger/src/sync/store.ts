/**
 * What sync needs of a replica (DESIGN §2: sync knows no SQL). The `Ledger` satisfies
 * `SyncStore` as it is; `PubSubStore` adds what a node on a bus needs, and `ledgerSyncStore`
 * builds one from a `Ledger`.
 */
import type { AnyEntry, Heads } from '@keymesh/protocol';
import type { IngestOptions, IngestResult } from '../types.js';
import type { CheckedLine } from '../check-line.js';

export interface SyncStore {
  /** author → highest contiguous seq held. */
  heads(): Heads;
  /** Canonical encodings of `author`'s entries from `fromSeq`, in feed order, at most `limit`. */
  readEncoded(author: string, fromSeq: number, limit: number): string[];
  /** Verifies and stores entries (never throws for one bad entry: it is rejected). */
  ingest(items: readonly string[], opts?: IngestOptions): IngestResult;
  /** Optional: stores lines already checked elsewhere (PubSubStore.check); as `ingest` otherwise. */
  ingestChecked?(lines: readonly string[], checks: ReadonlyArray<CheckedLine>, opts?: IngestOptions): IngestResult;
  /** Forked feeds this replica holds proof of: author → lowest forked seq and entries there. */
  forkClaims(limit: number): Record<string, { seq: number; entries: number }>;
  forks(): ReadonlyArray<{ author: string; seq: number; hashes: readonly string[] }>;
  /** Every signed entry held at the fork of `author` at `seq`, canonical. */
  forkProofs(author?: string, at?: number): string[];
  /** A peer's latest claim of its heads (unsigned: kept for sync lag, never as evidence). */
  noteRemoteHeads(node: string, heads: Heads): void;
}

/** The outcome of offering an entry for relay (compare-and-set on the author's head, DESIGN §3). */
export type SubmitOutcome =
  | { ok: true; entry: AnyEntry; text: string }
  | { ok: false; code: string; reason: string; head?: { seq: number; hash: string; text: string } | undefined };

/**
 * In a PubSubStore, `heads()` may answer as stored, before the commits reach the disk: sync
 * decides with it all the time, and an fsync per question would cap ingest at the disk's rate.
 * What is announced (haves, statuses) is made durable first with `flush()`.
 */
export interface PubSubStore extends SyncStore {
  /**
   * Optional, with `ingestChecked`: checks lines off this thread (parse, schema, canonical bytes,
   * hash: a worker's `checkLine`). A coordinator's intake uses it so its event loop only
   * verifies chains and stores.
   */
  check?(lines: string[]): Promise<ReadonlyArray<CheckedLine>>;
  /** The highest seq held of `author`'s feed, as stored now (not made durable first: for deciding, never for announcing). */
  seqOf(author: string): number;
  /** The newest contiguous entry of `author`'s feed, canonical (its signed head), or undefined. */
  headOf(author: string): string | undefined;
  /** The node's time (DESIGN §10). */
  now(): number;
  /** Does `key` hold any authority here (admin, enrolled node, trainer): are its feeds worth asking for? */
  hasAuthority(key: string): boolean;
  /** Is `key` an enrolled, unretired, unforked coordinator this replica trusts? */
  isTrustedCoordinator(key: string): boolean;
  /** Entries stored for a newer release (DESIGN §4). */
  heldForNewerVersion(): number;
  /** Durable notes of the sync layer (`rulesFreshAt`), kept across restarts. */
  readNote(name: string): string | undefined;
  writeNote(name: string, value: string): void;
  submit(entry: string): SubmitOutcome;
  /** Makes every commit so far durable (before this node's own entries are published). */
  flush(): void;
}
