/**
 * The durable replica (DESIGN §4–7, §10): one SQLite file holding every feed, the materialised
 * policy state, the access log, the quarantine and the fork proofs. When commits reach the
 * disk: `Durability` (types.ts).
 *
 * The policy reducer of @keymesh/protocol runs in memory (policy entries in full, access events
 * by reference) and its values are written to the `policy` table in the same transaction as the
 * entries that changed them, so the file always holds entries and state that agree.
 *
 * This class is a facade: each job is a file over the internals in core.ts. open.ts (opening,
 * integrity on open, closing), statements.ts, append.ts and own-feed.ts (this node's writes),
 * store.ts, ingest.ts, feed-run.ts, park.ts, held-drain.ts and signatures.ts (received
 * entries), submit.ts (entries for relay), beliefs.ts (peers' claims, clearing), materialise.ts,
 * access-log.ts, queries.ts (reading) and verify.ts (forensics).
 */
import type {
  AnyEntry, BodyOf, CryptoProvider, EntryType, Heads, KeyPair, PolicyState,
  CertValue, MemberValue, ResourceValue, CardValue, Conflict, Fork, NodeValue,
} from '@keymesh/protocol';
import type { CheckedLine } from './check-line.js';
import { flush, type LedgerCore } from './core.js';
import { closeCore, openCore } from './open.js';
import { appendMany } from './append.js';
import { ownFeedBehind } from './own-feed.js';
import { clear, noteRemoteHeads } from './beliefs.js';
import { ingestChecked, ingestWith, parse } from './ingest.js';
import { accessLog } from './access-log.js';
import * as queries from './queries.js';
import { verify } from './verify.js';
import { note } from './notes.js';
import { headOf, submit, type FeedHead, type SubmitResult } from './submit.js';
import { type AccessLogQuery, type AccessLogRow, type Alarm, type DurabilityStats, type IngestOptions, type IngestResult, type LedgerOptions, type QuarantinedEntry } from './types.js';

export * from './types.js';
export type { FeedHead, SubmitResult } from './submit.js';

export class Ledger {
  readonly site: string;
  readonly path: string;
  readonly readonly: boolean;
  readonly crypto: CryptoProvider;
  /** Everything the job files share: see core.ts. */
  private readonly l: LedgerCore;

  private constructor(l: LedgerCore) {
    this.l = l;
    this.path = l.path;
    this.readonly = l.readonly;
    this.site = l.site;
    this.crypto = l.crypto;
  }

  /**
   * Opens (creating if needed) the ledger file at `path` for `site`. A damaged or foreign file is
   * refused with an error that names the file and what to do.
   */
  static open(path: string, opts: LedgerOptions): Ledger {
    return new Ledger(openCore(path, opts));
  }

  close(): void {
    closeCore(this.l);
  }

  /**
   * Makes every commit so far durable against a power cut (one fsync of the WAL, on this
   * thread; a no-op when nothing is pending). Runs by itself before entries leave the ledger;
   * call it before handing an entry returned by `append` to anyone else.
   */
  flush(): void {
    flush(this.l);
  }

  /** Commits, fsyncs, and commits not yet fsynced (group commit figures, for benchmarks and the dashboard). */
  get durabilityStats(): DurabilityStats {
    return queries.durabilityStats(this.l);
  }

  /** SQLite's `synchronous` level on this connection, as the durability mode set it: FULL for 'each', else NORMAL. */
  get sqliteSynchronous(): 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA' {
    return queries.sqliteSynchronous(this.l);
  }

  /** SQLite's page cache limit on this connection, in KiB, as `pageCacheKiB` set it. */
  get sqlitePageCacheKiB(): number {
    return queries.sqlitePageCacheKiB(this.l);
  }

  /** The in-memory policy state (read-only use: decide(), queries). */
  get policy(): PolicyState {
    return this.l.state;
  }

  /**
   * This node's time in ms (DESIGN §6, §10): the later of its wall clock and the newest time it
   * has verified from an enrolled coordinator, kept across reboots. Pass it to decide().
   */
  now(): number {
    return this.l.time.now();
  }

  /** Entries stored for a newer version of Keymesh (DESIGN §4): verified, inert until an upgrade. */
  heldForNewerVersion(): number {
    return this.l.held.count();
  }

  // ---- writing ---------------------------------------------------------------------------

  /** Appends, signs and commits one entry, and updates the state, in one transaction. */
  append<T extends EntryType>(key: KeyPair, type: T, body: BodyOf<T>): { entry: AnyEntry; hash: string } {
    return this.appendMany(key, [{ type, body }])[0]!;
  }

  /** Appends several entries by one author in a single transaction. */
  appendMany(key: KeyPair, items: ReadonlyArray<{ type: EntryType; body: unknown; deps?: readonly string[] }>): Array<{ entry: AnyEntry; hash: string; hashBytes: Uint8Array }> {
    return appendMany(this.l, key, items);
  }

  /**
   * Non-null when a signed entry of `author` beyond the local head is held (verified before it
   * was parked: pending.ts). Peers' claims do not count: they are unsigned.
   */
  ownFeedBehind(author: string): { local: number; remote: number } | null {
    return ownFeedBehind(this.l, author);
  }

  /** Records the heads a peer announced, for sync lag only (unsigned: see beliefs.ts). */
  noteRemoteHeads(node: string, heads: Heads): void {
    noteRemoteHeads(this.l, node, heads);
  }

  /**
   * Clears what this node may have wrongly believed: the peers' claims, entries held for later
   * (all, or one author's), the quarantine; never the feeds. Returns how many rows each cleared.
   */
  clear(what: { peers?: boolean; pending?: string | true; quarantine?: boolean }): { peers: number; pending: number; quarantine: number } {
    return clear(this.l, what);
  }

  // ---- ingest ----------------------------------------------------------------------------

  /**
   * Verifies and stores entries that arrived in any order: schema, canonical bytes, site,
   * signature and chain. An entry whose predecessor is missing waits in `pending`; a fork is
   * kept as proof and raises an alarm. Authority is not a reason to refuse an entry (it is part
   * of its author's feed and the authority may arrive later); an entry without it simply never
   * changes the state.
   */
  ingest(items: ReadonlyArray<AnyEntry | string>, opts: IngestOptions = {}): IngestResult {
    return ingestWith(this.l, items, (item, reject) => parse(this.l, item, reject), opts);
  }

  /**
   * Ingest of lines whose `checkLine` results were computed elsewhere (a worker: see
   * IngestPool). `checks[i]` is `lines[i]`'s hash, or its rejection.
   * @internal
   */
  ingestChecked(lines: readonly string[], checks: ReadonlyArray<CheckedLine>, opts: IngestOptions = {}): IngestResult {
    return ingestChecked(this.l, lines, checks, opts);
  }

  /**
   * Compare-and-set for an entry that arrives for relay (DESIGN §3): stored only if it is valid
   * and extends its author's head held here, else refused with a reason (NOT_HEAD carries that
   * head) and nothing stored, held or quarantined. Durable when it returns `ok`.
   */
  submit(entry: AnyEntry | string): SubmitResult {
    return submit(this.l, entry);
  }

  // ---- reading ---------------------------------------------------------------------------

  /** `author`'s head entry (the seq `heads()` announces), or undefined if no feed is held. */
  headOf(author: string): FeedHead | undefined {
    return headOf(this.l, author);
  }

  /** Feed heads: author → highest contiguous seq held, up to the key's authority (queries.ts). */
  heads(): Heads {
    return queries.heads(this.l);
  }

  /** heads() as stored now, without making them durable first: for local decisions only (heads() is what may be announced). */
  localHeads(): Heads {
    return queries.heads(this.l, false);
  }

  /** The highest seq of `author`'s feed stored now, without making it durable first: for local decisions only (heads() is what may be announced). */
  seqOf(author: string): number {
    return this.l.feeds.get(author)?.seq ?? 0;
  }

  /** Reads a durable note of the layers above (sync's `rulesFreshAt`); with `value`, writes it first. */
  note(name: string, value?: string): string | undefined {
    return note(this.l, name, value);
  }

  /** Canonical encodings of `author`'s entries from `fromSeq`, in feed order. */
  readEncoded(author: string, fromSeq: number, limit: number): string[] {
    return queries.readEncoded(this.l, author, fromSeq, limit);
  }

  read(author: string, fromSeq: number, limit: number): AnyEntry[] {
    return this.readEncoded(author, fromSeq, limit).map((j) => JSON.parse(j) as AnyEntry);
  }

  /** Every entry of every feed (or one author's), in feed order: for export. */
  *iterateEncoded(author?: string): IterableIterator<string> {
    yield* queries.iterateEncoded(this.l, author);
  }

  /** The fork proofs the feeds do not hold, as canonical lines (see queries.ts). */
  forkProofs(author?: string, at?: number): string[] {
    return queries.forkProofs(this.l, author, at);
  }

  /** Author → its lowest forked seq and the entries held there, for at most `limit` authors (queries.ts). */
  forkClaims(limit: number): Record<string, { seq: number; entries: number }> {
    return queries.forkClaims(this.l, limit);
  }

  findByHash(hash: string): AnyEntry | undefined {
    return queries.findByHash(this.l, hash);
  }

  count(): number {
    return queries.count(this.l);
  }

  // ---- state queries -----------------------------------------------------------------------

  memberByCard(card: string): { card: CardValue | undefined; member: MemberValue | undefined } {
    return queries.memberByCard(this.l, card);
  }

  member(id: string): MemberValue | undefined {
    return this.l.state.member(id);
  }

  members(): MemberValue[] {
    return queries.values<MemberValue>(this.l, 'member/');
  }

  certifications(member: string): CertValue[] {
    return queries.values<CertValue>(this.l, `cert/${member}/`).filter((c) => c.granted);
  }

  resources(): ResourceValue[] {
    return queries.values<ResourceValue>(this.l, 'resource/');
  }

  nodes(): NodeValue[] {
    return queries.values<NodeValue>(this.l, 'node/');
  }

  /** The materialised `policy` table as { key: { value, heads } } (tests compare it with a recompute). */
  materialised(): Record<string, { value: unknown; heads: string[] }> {
    return queries.materialised(this.l);
  }

  conflicts(): Conflict[] {
    return this.l.state.conflicts();
  }

  forks(): Fork[] {
    return this.l.state.forks();
  }

  /** Refused entries, newest first; `count` is how many times that exact line was delivered. */
  quarantined(limit = 100): QuarantinedEntry[] {
    return queries.quarantined(this.l, limit);
  }

  /** Entries waiting in pending (pending.ts): how many, and of how many keys without authority. */
  pendingStats(): { entries: number; unauthorisedAuthors: number } {
    return this.l.pending.stats();
  }

  alarms(): Alarm[] {
    return queries.alarms(this.l);
  }

  /** Entries each known peer announced that this ledger does not hold yet, by peer. */
  syncLag(): Record<string, number> {
    return queries.syncLag(this.l);
  }

  /**
   * The access log, newest first, filtered by member, resource and time range, in pages. Only
   * events whose node was trusted for that resource are listed.
   */
  accessLog(q: AccessLogQuery = {}): { rows: AccessLogRow[]; next: string | null } {
    return accessLog(this.l, q);
  }

  /** Hash of the canonical materialised state: two replicas with equal digests agree. */
  digest(): string {
    return this.l.state.digest();
  }

  /**
   * Checks the file and every stored entry from scratch: every page (SQLite's quick_check),
   * canonical bytes, schema, hash links, signatures, site, gaps. For `keymesh-ledger verify`
   * and forensics (what an open does not read: checkOnOpen); returns every problem found.
   */
  verify(onProgress?: (done: number, total: number) => void): Array<{ author: string; seq: number; reason: string }> {
    return verify(this.l, onProgress);
  }
}
