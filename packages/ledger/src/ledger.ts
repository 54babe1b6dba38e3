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
 *
 * The work is split by job, one file each, over the internals in core.ts: open.ts (opening,
 * integrity on open), statements.ts, append.ts (the write path), ingest.ts, feed-run.ts and
 * held-drain.ts (ingest), materialise.ts (state and time), access-log.ts, queries.ts (reading)
 * and verify.ts (forensics). This class glues them.
 */
import type Database from 'better-sqlite3';
import type {
  AnyEntry, BodyOf, CryptoProvider, EntryType, Heads, KeyPair, PolicyState, SeqRange,
  CertValue, MemberValue, ResourceValue, CardValue, Conflict, Fork, NodeValue,
} from '@keymesh/protocol';
import type { CheckedLine } from './check-line.js';
import { createCore, flush, type LedgerCore } from './core.js';
import { checkOnOpen, openLedgerFile } from './open.js';
import { appendMany, clear, noteRemoteHeads, ownFeedBehind } from './append.js';
import { ingestWith, parse, admit } from './ingest.js';
import { accessLog, indexEvents } from './access-log.js';
import { markChecked, write } from './core.js';
import * as queries from './queries.js';
import { verify } from './verify.js';
import { headOf, submit, type FeedHead, type SubmitResult } from './submit.js';
import { rangesAhead, type AccessLogQuery, type AccessLogRow, type Alarm, type Durability, type IngestOptions, type IngestResult, type LedgerOptions } from './types.js';

export * from './types.js';
export type { FeedHead, SubmitResult } from './submit.js';

export class Ledger {
  readonly site: string;
  readonly path: string;
  readonly readonly: boolean;
  readonly crypto: CryptoProvider;
  /** Everything the job files share: see core.ts. */
  private readonly l: LedgerCore;

  private constructor(path: string, db: Database.Database, opts: LedgerOptions) {
    this.l = createCore(path, db, opts);
    this.path = path;
    this.readonly = this.l.readonly;
    this.site = this.l.site;
    this.crypto = this.l.crypto;
  }

  /**
   * Opens (creating if needed) the ledger file at `path` for `site`. A damaged or foreign file is
   * refused with an error that names the file and what to do.
   */
  static open(path: string, opts: LedgerOptions): Ledger {
    return openLedgerFile(path, opts, (db) => {
      const ledger = new Ledger(path, db, opts);
      try {
        if (!opts.forensic) checkOnOpen(ledger.l);
      } catch (err) {
        ledger.l.groupCommit?.close();
        throw err;
      }
      return ledger;
    });
  }

  close(): void {
    const l = this.l;
    if (l.closed) return;
    if (l.unindexed.length && !l.readonly) {
      try {
        write(l, () => {
          indexEvents(l);
          markChecked(l, true);
        });
      } catch {
        // The file must still be released; the next open finds these events again (loadUnindexed).
      }
    }
    l.groupCommit?.close();
    l.closed = true;
    l.db.close();
  }

  /**
   * Makes every commit so far durable against a power cut (group commit: one fsync of the WAL,
   * on this thread). A no-op when nothing is pending, and in the 'each' and 'process' modes.
   * Runs by itself before entries leave the ledger; call it before handing an entry returned by
   * `append` to anyone else.
   */
  flush(): void {
    flush(this.l);
  }

  /** Commits, fsyncs, and commits not yet fsynced (group commit figures, for benchmarks and the dashboard). */
  get durabilityStats(): { durability: Durability; commits: number; fsyncs: number; unsynced: number; checkpoints: number } {
    const l = this.l;
    return { durability: l.durability, commits: l.commits, fsyncs: 0, unsynced: 0, checkpoints: 0, ...l.groupCommit?.stats };
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
  appendMany(key: KeyPair, items: ReadonlyArray<{ type: EntryType; body: unknown }>): Array<{ entry: AnyEntry; hash: string; hashBytes: Uint8Array }> {
    return appendMany(this.l, key, items);
  }

  /**
   * Non-null when a signed entry of `author` beyond the local head is held (verified before it
   * was parked: pending.ts). Peers' claims do not count: they are unsigned.
   */
  ownFeedBehind(author: string): { local: number; remote: number } | null {
    return ownFeedBehind(this.l, author);
  }

  /**
   * Records the heads a peer announced, for sync lag only: unsigned, so they never block an
   * append or change state. The latest claim replaces the previous one (a later truthful
   * `have` undoes a lie). Bounded: PEER_CLAIMS_UNKNOWN claims per peer for authors this ledger
   * holds no feed of, and the PEER_NODES peers heard from last.
   */
  noteRemoteHeads(node: string, heads: Heads): void {
    noteRemoteHeads(this.l, node, heads);
  }

  /**
   * Clears what this node may have wrongly believed: the peers' claims (`peers`), entries
   * held for later (`pending`: all, or one author's), the quarantine. Nothing signed that the
   * feeds hold is touched; peers send held entries again when they apply. Returns how many
   * rows each cleared.
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
    return ingestWith(this.l, lines.map((_, i) => i), (i, reject) => {
      const c = checks[i]!;
      if (c instanceof Uint8Array || 'hash' in c) {
        // The worker ran checkLine (envelope, canonical bytes); parsing again here is plain JSON.
        const entry = JSON.parse(lines[i]!) as AnyEntry;
        return c instanceof Uint8Array ? admit(this.l, { entry, json: lines[i]!, hash: c, known: true }, reject) : admit(this.l, { entry, json: lines[i]!, hash: c.hash, known: false }, reject);
      }
      reject(lines[i]!.slice(0, 65536), c.author, c.seq, c.code, c.reason);
      return null;
    }, opts);
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

  /**
   * Feed heads: author → highest contiguous seq held, up to the key's last seq with authority.
   * Entries past it count for nothing and are held apart when they arrive, but a replica that
   * stored some before it learned of a retirement (or a member key's withdrawal) keeps them:
   * announcing them would make peers that hold them apart ask for them every round. So heads
   * agree and sync goes quiet.
   */
  heads(): Heads {
    return queries.heads(this.l);
  }

  /** The ranges a peer with `theirs` lacks and this ledger can send. */
  missing(theirs: Heads): SeqRange[] {
    return rangesAhead(this.heads(), theirs);
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

  /**
   * The second (third…) signed entries found at a seq of a feed, as canonical lines: the fork
   * proofs, which the feeds themselves do not hold (their entry at that seq is the one held
   * first). For export, after the feeds; with `at`, only that seq, headed by the feed's own
   * entry there, so a peer holding neither gets both halves of the proof (sync).
   */
  forkProofs(author?: string, at?: number): string[] {
    return queries.forkProofs(this.l, author, at);
  }

  /**
   * Author → the lowest seq at which this ledger holds a fork of that feed and how many entries
   * it holds there (what a `have` announces, so a peer sends the proofs this replica lacks). At
   * most `limit` authors: those whose keys hold some authority first (their forks change
   * decisions), then by key.
   */
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

  memberByCard(uid: string): { card: CardValue | undefined; member: MemberValue | undefined } {
    const card = this.l.state.card(uid);
    return { card, member: card?.state === 'bound' ? this.l.state.member(card.member) : undefined };
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
  quarantined(limit = 100): Array<{ id: number; receivedAt: number; lastSeen: number; count: number; author: string | null; seq: number | null; code: string; reason: string }> {
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
