/**
 * Entries held for a newer version (DESIGN §4 "Newer versions"; issue 10, finding 9). An entry
 * whose envelope, signature and chain verify but whose type or body this release does not
 * understand was written by a newer release. Refusing it would stall its author's feed at
 * every node until they all upgrade, so it is stored in its feed like any other entry (it
 * advances the head, later entries chain to it) and changes nothing: no policy key, no access
 * event. Its id is listed in the `held` table (schema 6), which the node's status counts; a
 * release that understands it re-reads it on open (Ledger.rereadHeld) and removes it here.
 */
import type Database from 'better-sqlite3';
import { entryIdSql } from './migrations.js';

export interface HeldRow {
  feed: number;
  seq: number;
  hash: Buffer;
  json: string;
}

export class HeldEntries {
  private readonly stmt;

  constructor(db: Database.Database) {
    this.stmt = {
      hold: db.prepare(`INSERT OR IGNORE INTO held (id) VALUES (${entryIdSql('?', '?')})`),
      release: db.prepare(`DELETE FROM held WHERE id = ${entryIdSql('?', '?')}`),
      count: db.prepare('SELECT count(*) AS n FROM held'),
      rows: db.prepare('SELECT e.feed, e.seq, e.hash, e.json FROM held h JOIN entries e ON e.id = h.id ORDER BY h.id'),
      byType: db.prepare('SELECT e.type, count(*) AS n FROM held h JOIN entries e ON e.id = h.id GROUP BY e.type ORDER BY e.type'),
    };
  }

  /** Lists the stored entry (feed, seq) as held. Inside the transaction that stores it. */
  hold(feed: number, seq: number): void {
    this.stmt.hold.run(feed, seq);
  }

  /** The entry is understood now. Inside a transaction. */
  release(feed: number, seq: number): void {
    this.stmt.release.run(feed, seq);
  }

  count(): number {
    return (this.stmt.count.get() as { n: number }).n;
  }

  /** How many of each type are held (for the status and the alarm). */
  byType(): Record<string, number> {
    return Object.fromEntries((this.stmt.byType.all() as Array<{ type: string; n: number }>).map((r) => [r.type, r.n]));
  }

  rows(): HeldRow[] {
    return this.stmt.rows.all() as HeldRow[];
  }
}
