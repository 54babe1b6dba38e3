/**
 * The quarantine (DESIGN §4): received entries that were refused, kept with their reason for
 * an admin to examine. Hostile volume must not grow it without bound (issue 10, finding 13):
 * the same raw line delivered many times is one row (keyed by sha256 of the line, with a count
 * and when it was last seen), each author keeps its newest QUARANTINE_PER_AUTHOR rows (lines
 * with no readable author count as one author) and the table its newest QUARANTINE_TOTAL.
 * Rows are bounded in bytes too: a row keeps the first QUARANTINE_RAW_CHARS of the refused
 * line (enough to read its author, seq and type) and the sha256 of the line (`digest`, which
 * tells lines apart), so the table holds at most ~20 MB (10,000 rows x 2 KB) however large the
 * lines a peer sends, not 10,000 x 64 KB (~650 MB) on a Pi's SD card.
 */
import type Database from 'better-sqlite3';
import { utf8, type CryptoProvider } from '@keymesh/protocol';
import type { RejectCode } from './errors.js';

export const QUARANTINE_PER_AUTHOR = 100;
export const QUARANTINE_TOTAL = 10_000;
/** Characters of a refused line kept in its row (the digest identifies the whole line). */
export const QUARANTINE_RAW_CHARS = 2048;

export interface QuarantineRow {
  author: string | null;
  seq: number | null;
  code: RejectCode;
  reason: string;
  raw: string;
}

export class Quarantine {
  private readonly stmt;

  constructor(private readonly db: Database.Database, private readonly crypto: CryptoProvider) {
    this.stmt = {
      upsert: db.prepare(`INSERT INTO quarantine (received_at, author, seq, code, reason, raw, digest, count, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (digest) DO UPDATE SET count = count + excluded.count, last_seen = excluded.last_seen, code = excluded.code, reason = excluded.reason`),
      trimAuthor: db.prepare(`DELETE FROM quarantine WHERE author = ? AND id IN (
        SELECT id FROM quarantine WHERE author = ? ORDER BY last_seen DESC, id DESC LIMIT -1 OFFSET ${QUARANTINE_PER_AUTHOR})`),
      trimNull: db.prepare(`DELETE FROM quarantine WHERE author IS NULL AND id IN (
        SELECT id FROM quarantine WHERE author IS NULL ORDER BY last_seen DESC, id DESC LIMIT -1 OFFSET ${QUARANTINE_PER_AUTHOR})`),
      count: db.prepare('SELECT count(*) AS n FROM quarantine'),
      trimTotal: db.prepare('DELETE FROM quarantine WHERE id IN (SELECT id FROM quarantine ORDER BY last_seen, id LIMIT ?)'),
    };
  }

  /**
   * Records the rows of one ingest, inside its transaction. Repeats are counted in memory and
   * only the newest rows per author can survive the bounds, so the rest are never written (a
   * flood of 50,000 lines costs at most 100 inserts per author).
   */
  record(rows: readonly QuarantineRow[], at: number): void {
    if (rows.length === 0) return;
    // Distinct lines, each at its last delivery (Map order: first insertion, so delete and re-add).
    const distinct = new Map<string, { row: QuarantineRow; digest: Uint8Array; n: number }>();
    for (const row of rows) {
      const digest = this.crypto.sha256(utf8(row.raw));
      const key = Buffer.from(digest).toString('hex');
      const had = distinct.get(key);
      if (had) distinct.delete(key);
      distinct.set(key, { row, digest, n: (had?.n ?? 0) + 1 });
    }
    // The newest QUARANTINE_PER_AUTHOR of each author, written in arrival order (ids: oldest first).
    const perAuthor = new Map<string | null, number>();
    const keep = [...distinct.values()].reverse().filter((d) => {
      const n = perAuthor.get(d.row.author) ?? 0;
      perAuthor.set(d.row.author, n + 1);
      return n < QUARANTINE_PER_AUTHOR;
    }).reverse();
    for (const { row: r, digest, n } of keep) this.stmt.upsert.run(at, r.author, r.seq, r.code, r.reason, r.raw.slice(0, QUARANTINE_RAW_CHARS), digest, n, at);
    for (const author of perAuthor.keys()) {
      if (author === null) this.stmt.trimNull.run();
      else this.stmt.trimAuthor.run(author, author);
    }
    const total = (this.stmt.count.get() as { n: number }).n;
    if (total > QUARANTINE_TOTAL) this.stmt.trimTotal.run(total - QUARANTINE_TOTAL);
  }

  /** Rows and the deliveries they stand for (a row delivered 50 times counts 50). */
  totals(): { rows: number; deliveries: number } {
    return this.db.prepare('SELECT count(*) AS rows, coalesce(sum(count), 0) AS deliveries FROM quarantine').get() as { rows: number; deliveries: number };
  }

  clear(): number {
    return this.db.prepare('DELETE FROM quarantine').run().changes;
  }
}
