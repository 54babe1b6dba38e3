/**
 * Entries held for later (DESIGN §3, Evidence; issue 10, findings 1 and 13): those ahead of a
 * gap in their feed, and those of keys that hold no authority yet (kept out of the feeds, so a
 * flood of throwaway keys never becomes feeds, heads or a huge `have`). Every held entry's
 * signature was checked before it was parked, so a held entry is evidence: it may tell a node
 * that its own feed is ahead elsewhere. Held entries are bounded: per author (the lowest seqs
 * are kept: they are the ones that can apply next), per (author, seq) (two: a fork pair is
 * proof), in number of authors without authority, and in total (apart for keys without
 * authority, so they cannot crowd out the evidence of the others). Overflow is dropped and
 * counted, not quarantined: the peers send it again once the gap closes.
 */
import type Database from 'better-sqlite3';
import type { AnyEntry } from '@keymesh/protocol';

/** Entries held per author whose feed has a gap. */
export const PENDING_PER_AUTHOR = 1024;
/** Different entries held for one (author, seq): two prove a fork. */
export const PENDING_PER_SEQ = 2;
/** Entries held per key without authority, and how many such keys. */
export const HELD_PER_AUTHOR = 256;
export const HELD_AUTHORS = 1000;
/**
 * Entries held in all for keys with authority, and apart for keys without: however many keys
 * a peer invents, a genuine entry ahead of a gap (the node's own, proving its feed ahead) is
 * still held.
 */
export const PENDING_TOTAL = 50_000;
export const HELD_TOTAL = 32_768;

export interface PendingEntry {
  entry: AnyEntry;
  json: string;
  hash: Uint8Array;
  /** Already in the table (verified when it was parked). */
  stored?: boolean;
}

export class Pending {
  private readonly stmt;
  /** Rows in the table; loaded when first needed, dropped when a transaction fails. */
  private total: number | undefined;
  /** Rows of keys without authority (of `total`); loaded when needed, dropped when unsure. */
  private heldTotal: number | undefined;
  /** Authors whose rows are marked unauthorised; as `total`. */
  private held: Set<string> | undefined;

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      insert: db.prepare('INSERT OR IGNORE INTO pending (author, seq, hash, json, received_at, unauthorised) VALUES (?, ?, ?, ?, ?, ?)'),
      of: db.prepare('SELECT seq, hash, json FROM pending WHERE author = ? ORDER BY seq'),
      deleteUpTo: db.prepare('DELETE FROM pending WHERE author = ? AND seq <= ?'),
      deleteOne: db.prepare('DELETE FROM pending WHERE author = ? AND seq = ? AND hash = ?'),
      authorise: db.prepare('UPDATE pending SET unauthorised = 0 WHERE author = ? AND unauthorised = 1'),
      maxSeq: db.prepare('SELECT max(seq) AS seq FROM pending WHERE author = ?'),
      count: db.prepare('SELECT count(*) AS n FROM pending'),
      countHeld: db.prepare('SELECT count(*) AS n FROM pending WHERE unauthorised = 1'),
      heldAuthors: db.prepare('SELECT DISTINCT author FROM pending WHERE unauthorised = 1'),
    };
  }

  /** Forgets the cached counts (after a failed transaction: the file is the truth). */
  forget(): void {
    this.total = undefined;
    this.heldTotal = undefined;
    this.held = undefined;
  }

  private heldSet(): Set<string> {
    return (this.held ??= new Set((this.stmt.heldAuthors.all() as Array<{ author: string }>).map((r) => r.author)));
  }

  private count(): number {
    return (this.total ??= (this.stmt.count.get() as { n: number }).n);
  }

  private countHeld(): number {
    return (this.heldTotal ??= (this.stmt.countHeld.get() as { n: number }).n);
  }

  /** Is there room for one more entry, of a key with authority or of one without? */
  private room(unauthorised: boolean): boolean {
    return unauthorised ? this.countHeld() < HELD_TOTAL : this.count() - this.countHeld() < PENDING_TOTAL;
  }

  /** Is there room for (more) entries of a key without authority? */
  mayHold(author: string): boolean {
    const held = this.heldSet();
    return (held.has(author) || held.size < HELD_AUTHORS) && this.room(true);
  }

  stats(): { entries: number; unauthorisedAuthors: number } {
    return { entries: this.count(), unauthorisedAuthors: this.heldSet().size };
  }

  isHeld(author: string): boolean {
    return this.heldSet().has(author);
  }

  /** Authors held for want of authority. */
  heldAuthors(): string[] {
    return [...this.heldSet()];
  }

  /** The author now holds authority: its rows count with the authorised ones. */
  authorise(author: string): void {
    const held = this.heldSet();
    if (!held.has(author)) return;
    this.stmt.authorise.run(author);
    held.delete(author);
    this.heldTotal = undefined;
  }

  /** The author's held entries, in seq order. A row that is not the entry it is filed as is dropped. */
  rows(author: string): PendingEntry[] {
    const out: PendingEntry[] = [];
    for (const r of this.stmt.of.all(author) as Array<{ seq: number; hash: Buffer; json: string }>) {
      let entry: AnyEntry | undefined;
      try {
        entry = JSON.parse(r.json) as AnyEntry;
      } catch {
        // dropped below
      }
      if (entry?.author === author && entry.seq === r.seq) out.push({ entry, json: r.json, hash: new Uint8Array(r.hash), stored: true });
      else this.drop(author, r.seq, r.hash);
    }
    return out;
  }

  maxSeq(author: string): number {
    return (this.stmt.maxSeq.get(author) as { seq: number | null }).seq ?? 0;
  }

  deleteUpTo(author: string, seq: number): void {
    const n = this.stmt.deleteUpTo.run(author, seq).changes;
    if (this.total !== undefined) this.total -= n;
    if (n && this.held?.has(author)) this.heldTotal = undefined;
  }

  drop(author: string, seq: number, hash: Uint8Array): void {
    const n = this.stmt.deleteOne.run(author, seq, hash).changes;
    if (this.total !== undefined) this.total -= n;
    if (n && this.held?.has(author)) this.heldTotal = undefined;
  }

  /**
   * Holds what is left of an author's entries after its run was stored: `cands` are every entry
   * still ahead of its head, stored rows included. Keeps the lowest seqs within the bounds,
   * parks the new ones that `verified` accepts (it reports those it refuses), evicts stored
   * rows that lower seqs displaced. Inside the ingest's transaction.
   */
  park(author: string, cands: readonly PendingEntry[], unauthorised: boolean, verified: (c: PendingEntry) => boolean, at: number): { waiting: number; dropped: number; forks: Array<{ p: PendingEntry; original: Uint8Array }> } {
    let waiting = 0;
    let dropped = 0;
    // A third (fourth…) signed entry at a seq that already holds two is not held but is fork
    // proof, so it is recorded now like any fork (else replicas would differ in what they prove).
    // Not for a key without authority: its forks prove nothing anyone relies on, and would be
    // a way to fill the forks table.
    const forks: Array<{ p: PendingEntry; original: Uint8Array }> = [];
    let first: PendingEntry | undefined;
    const held = this.heldSet();
    if (!unauthorised) this.authorise(author);
    const sorted = [...cands].sort((a, b) => a.entry.seq - b.entry.seq || Number(!!b.stored) - Number(!!a.stored));
    const cap = unauthorised ? HELD_PER_AUTHOR : PENDING_PER_AUTHOR;
    // A new key without authority past the number of such keys: nothing of it is held.
    const room = !unauthorised || held.has(author) || held.size < HELD_AUTHORS;
    let kept = 0;
    let atSeq = 0;
    let lastSeq = -1;
    for (const c of sorted) {
      if (c.entry.seq !== lastSeq) (lastSeq = c.entry.seq), (atSeq = 0), (first = undefined);
      const fits = room && kept < cap && atSeq < PENDING_PER_SEQ;
      if (c.stored) {
        if (fits) (kept++, atSeq++, (first ??= c));
        else this.drop(author, c.entry.seq, c.hash);
        continue;
      }
      if (first && atSeq >= PENDING_PER_SEQ && !unauthorised) {
        if (verified(c)) forks.push({ p: c, original: first.hash });
        continue;
      }
      if (!fits || !this.room(unauthorised)) {
        dropped++;
        continue;
      }
      if (!verified(c)) continue;
      if (this.stmt.insert.run(author, c.entry.seq, c.hash, c.json, at, unauthorised ? 1 : 0).changes) {
        this.total = this.count() + 1;
        if (unauthorised) this.heldTotal = this.countHeld() + 1;
        waiting++;
        kept++;
        atSeq++;
        first ??= c;
        if (unauthorised) held.add(author);
      }
    }
    return { waiting, dropped, forks };
  }

  /** Deletes every held entry, or one author's; returns how many. */
  clear(author?: string): number {
    const n = author === undefined
      ? this.db.prepare('DELETE FROM pending').run().changes
      : this.db.prepare('DELETE FROM pending WHERE author = ?').run(author).changes;
    this.forget();
    return n;
  }
}
