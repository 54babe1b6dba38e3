/**
 * Entries held for later (DESIGN §3, Evidence; issue 10, findings 1 and 13): those ahead of a
 * gap in their feed, and those of keys that hold no authority yet (kept out of the feeds, so a
 * flood of throwaway keys never becomes feeds, heads or a huge `have`). A key's entries past
 * every seq where it holds authority (a retired node's past its lastSeq, an admin's or member
 * key's past its `until`) count for nothing and are held like those of a key without any (from
 * `heldFrom` on), so a stolen retired key cannot grow every replica. Every held entry's
 * signature was checked before it was parked, so a held entry is evidence: it may tell a node
 * that its own feed is ahead elsewhere. Held entries are bounded: per author (the lowest seqs
 * are kept: they are the ones that can apply next), per (author, seq) (two: a fork pair is
 * proof), in number of authors without authority, and in total (apart for keys without
 * authority, so they cannot crowd out the evidence of the others), in rows and in bytes (an
 * entry may be 64 KB: an unknown type's body is anything, so row bounds alone let throwaway
 * keys park ~2 GB). Overflow is dropped and counted, not quarantined: the peers send it again
 * once the gap closes. (Bytes are counted as characters of the entry's JSON.)
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
/** Bytes held per key without authority (~4 KB an entry at HELD_PER_AUTHOR), and in all for such keys. */
export const HELD_BYTES_PER_AUTHOR = 1 << 20;
export const HELD_BYTES_TOTAL = 32 << 20;
/** Bytes held in all for keys with authority (apart from HELD_BYTES_TOTAL, as the rows are). */
export const PENDING_BYTES_TOTAL = 128 << 20;

/** What the table holds: rows and bytes, in all and of keys without authority. */
interface Sizes {
  rows: number;
  bytes: number;
  heldRows: number;
  heldBytes: number;
}

export interface PendingEntry {
  entry: AnyEntry;
  json: string;
  hash: Uint8Array;
  /** Already in the table (verified when it was parked). */
  stored?: boolean;
}

export class Pending {
  private readonly stmt;
  /** Rows and bytes in the table; loaded when first needed, dropped when a transaction fails. */
  private sizes: Sizes | undefined;
  /** Authors whose rows are marked unauthorised; as `sizes`. */
  private held: Set<string> | undefined;

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      insert: db.prepare('INSERT OR IGNORE INTO pending (author, seq, hash, json, received_at, unauthorised) VALUES (?, ?, ?, ?, ?, ?)'),
      of: db.prepare('SELECT seq, hash, json FROM pending WHERE author = ? ORDER BY seq'),
      // RETURNING: the cached sizes follow every change without a scan of the table.
      deleteUpTo: db.prepare('DELETE FROM pending WHERE author = ? AND seq <= ? RETURNING unauthorised AS u, length(json) AS n'),
      deleteOne: db.prepare('DELETE FROM pending WHERE author = ? AND seq = ? AND hash = ? RETURNING unauthorised AS u, length(json) AS n'),
      authorise: db.prepare('UPDATE pending SET unauthorised = 0 WHERE author = ? AND unauthorised = 1 AND seq < ? RETURNING length(json) AS n'),
      unauthorise: db.prepare('UPDATE pending SET unauthorised = 1 WHERE author = ? AND unauthorised = 0 AND seq >= ? RETURNING length(json) AS n'),
      maxSeq: db.prepare('SELECT max(seq) AS seq FROM pending WHERE author = ?'),
      firstHeld: db.prepare('SELECT min(seq) AS seq FROM pending WHERE author = ? AND unauthorised = 1'),
      sizes: db.prepare('SELECT unauthorised AS u, count(*) AS rows, coalesce(sum(length(json)), 0) AS bytes FROM pending GROUP BY unauthorised'),
      heldAuthors: db.prepare('SELECT DISTINCT author FROM pending WHERE unauthorised = 1'),
    };
  }

  /** Forgets the cached counts (after a failed transaction: the file is the truth). */
  forget(): void {
    this.sizes = undefined;
    this.held = undefined;
  }

  private heldSet(): Set<string> {
    return (this.held ??= new Set((this.stmt.heldAuthors.all() as Array<{ author: string }>).map((r) => r.author)));
  }

  private size(): Sizes {
    if (!this.sizes) {
      const s: Sizes = { rows: 0, bytes: 0, heldRows: 0, heldBytes: 0 };
      for (const r of this.stmt.sizes.all() as Array<{ u: number; rows: number; bytes: number }>) {
        s.rows += r.rows;
        s.bytes += r.bytes;
        if (r.u) (s.heldRows += r.rows), (s.heldBytes += r.bytes);
      }
      this.sizes = s;
    }
    return this.sizes;
  }

  /** Counts rows of `bytes` each into (sign 1) or out of (-1) the cached sizes. */
  private account(held: boolean, bytes: readonly number[], sign: 1 | -1): void {
    const s = this.sizes;
    if (!s || bytes.length === 0) return;
    const sum = bytes.reduce((a, b) => a + b, 0) * sign;
    s.rows += bytes.length * sign;
    s.bytes += sum;
    if (held) (s.heldRows += bytes.length * sign), (s.heldBytes += sum);
  }

  private removed(rows: Array<{ u: number; n: number }>): void {
    for (const r of rows) this.account(r.u === 1, [r.n], -1);
  }

  /** Is there room for one more entry of `bytes`, of a key with authority or of one without? */
  private room(unauthorised: boolean, bytes: number): boolean {
    const s = this.size();
    return unauthorised
      ? s.heldRows < HELD_TOTAL && s.heldBytes + bytes <= HELD_BYTES_TOTAL
      : s.rows - s.heldRows < PENDING_TOTAL && s.bytes - s.heldBytes + bytes <= PENDING_BYTES_TOTAL;
  }

  /** Is there room for (more) entries of a key without authority? */
  mayHold(author: string): boolean {
    const held = this.heldSet();
    return (held.has(author) || held.size < HELD_AUTHORS) && this.room(true, 0);
  }

  stats(): { entries: number; unauthorisedAuthors: number } {
    return { entries: this.size().rows, unauthorisedAuthors: this.heldSet().size };
  }

  /** The lowest seq of `author` held for want of authority, if any. */
  firstHeld(author: string): number | undefined {
    return (this.stmt.firstHeld.get(author) as { seq: number | null }).seq ?? undefined;
  }

  isHeld(author: string): boolean {
    return this.heldSet().has(author);
  }

  /** Authors held for want of authority. */
  heldAuthors(): string[] {
    return [...this.heldSet()];
  }

  /** The author now holds authority (below seq `upTo`): those rows count with the authorised ones. */
  authorise(author: string, upTo = Number.MAX_SAFE_INTEGER): void {
    const held = this.heldSet();
    if (!held.has(author)) return;
    const moved = (this.stmt.authorise.all(author, upTo) as Array<{ n: number }>).map((r) => r.n);
    this.account(true, moved, -1);
    this.account(false, moved, 1);
    if (upTo === Number.MAX_SAFE_INTEGER) held.delete(author);
  }

  /** The author holds no authority from seq `from` on: those rows count with the unauthorised ones. */
  private unauthorise(author: string, from: number): void {
    const moved = (this.stmt.unauthorise.all(author, from) as Array<{ n: number }>).map((r) => r.n);
    if (moved.length === 0) return;
    this.account(false, moved, -1);
    this.account(true, moved, 1);
    this.heldSet().add(author);
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
    this.removed(this.stmt.deleteUpTo.all(author, seq) as Array<{ u: number; n: number }>);
  }

  drop(author: string, seq: number, hash: Uint8Array): void {
    this.removed(this.stmt.deleteOne.all(author, seq, hash) as Array<{ u: number; n: number }>);
  }

  /**
   * Holds what is left of an author's entries after its run was stored: `cands` are every entry
   * still ahead of its head, stored rows included. Those from seq `heldFrom` on are held for
   * want of authority (1: the key holds none; Infinity: it holds authority at every seq).
   * Keeps the lowest seqs within the bounds, parks the new ones that `verified` accepts (it
   * reports those it refuses), evicts stored rows that lower seqs displaced. Inside the
   * ingest's transaction.
   */
  park(author: string, cands: readonly PendingEntry[], heldFrom: number, verified: (c: PendingEntry) => boolean, at: number): { waiting: number; dropped: number; forks: Array<{ p: PendingEntry; original: Uint8Array }> } {
    let waiting = 0;
    let dropped = 0;
    // A third (fourth…) signed entry at a seq that already holds two is not held but is fork
    // proof, so it is recorded now like any fork (else replicas would differ in what they prove).
    // Not for a key without authority: its forks prove nothing anyone relies on, and would be
    // a way to fill the forks table.
    const forks: Array<{ p: PendingEntry; original: Uint8Array }> = [];
    let first: PendingEntry | undefined;
    const held = this.heldSet();
    // A new key without authority past the number of such keys: nothing of it is held.
    const room = held.has(author) || held.size < HELD_AUTHORS;
    // Stored rows change sides when the author's authority did (an enrolment, a retirement).
    if (Number.isFinite(heldFrom)) this.unauthorise(author, heldFrom);
    this.authorise(author, Math.min(heldFrom, Number.MAX_SAFE_INTEGER));
    const sorted = [...cands].sort((a, b) => a.entry.seq - b.entry.seq || Number(!!b.stored) - Number(!!a.stored));
    let kept = 0;
    let heldKept = 0;
    let heldBytes = 0;
    let atSeq = 0;
    let lastSeq = -1;
    for (const c of sorted) {
      if (c.entry.seq !== lastSeq) (lastSeq = c.entry.seq), (atSeq = 0), (first = undefined);
      const unauthorised = c.entry.seq >= heldFrom;
      const bytes = c.json.length;
      const fits = unauthorised
        ? room && kept < HELD_PER_AUTHOR && heldBytes + bytes <= HELD_BYTES_PER_AUTHOR && atSeq < PENDING_PER_SEQ
        : kept < PENDING_PER_AUTHOR && atSeq < PENDING_PER_SEQ;
      if (c.stored) {
        if (fits) (kept++, atSeq++, (first ??= c), unauthorised && (heldKept++, (heldBytes += bytes)));
        else this.drop(author, c.entry.seq, c.hash);
        continue;
      }
      if (first && atSeq >= PENDING_PER_SEQ && !unauthorised) {
        if (verified(c)) forks.push({ p: c, original: first.hash });
        continue;
      }
      if (!fits || !this.room(unauthorised, bytes)) {
        dropped++;
        continue;
      }
      if (!verified(c)) continue;
      if (this.stmt.insert.run(author, c.entry.seq, c.hash, c.json, at, unauthorised ? 1 : 0).changes) {
        this.account(unauthorised, [bytes], 1);
        waiting++;
        kept++;
        atSeq++;
        first ??= c;
        if (unauthorised) {
          heldKept++;
          heldBytes += bytes;
        }
      }
    }
    // Every row of the author was among `cands`: it is held for want of authority iff some are.
    if (heldKept) held.add(author);
    else held.delete(author);
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
