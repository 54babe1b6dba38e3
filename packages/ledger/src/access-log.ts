/**
 * The access log: access events' rows, their member and resource indexes (written in batches),
 * and the paged query over them.
 */
import type { AnyEntry, EntryType, EventRef } from '@keymesh/protocol';
import { entryIdSql, SEQ_BITS } from './migrations.js';
import type { AccessLogQuery, AccessLogRow } from './types.js';
import { markChecked, write, type LedgerCore, type UnindexedEvent } from './core.js';

/** An access event's row, and its place in the next batch of the access log's indexes. */
export function recordEvent(l: LedgerCore, feed: number, e: AnyEntry): void {
  const b = e.body as { resource: string; member?: string | null; at: number; allow?: boolean };
  l.stmt.insertEvent.run(feed, e.seq, b.resource, b.member ?? null, b.at, b.allow === undefined ? null : b.allow ? 1 : 0);
  l.unindexed.push({ feed, seq: e.seq, member: b.member ?? null, resource: b.resource, at: b.at });
}

/** Writes the unindexed events into the access log's member and resource indexes. In a transaction. */
export function indexEvents(l: LedgerCore): void {
  markChecked(l); // with the index batches: see markChecked
  if (l.unindexed.length === 0) return;
  const upTo = new Map<number, number>();
  for (const ev of l.unindexed) {
    if (ev.member !== null) l.stmt.indexByMember.run(ev.member, ev.at, ev.feed, ev.seq);
    l.stmt.indexByResource.run(ev.resource, ev.at, ev.feed, ev.seq);
    upTo.set(ev.feed, Math.max(upTo.get(ev.feed) ?? 0, ev.seq));
  }
  for (const [feed, seq] of upTo) l.stmt.markIndexed.run(feed, seq);
  l.unindexed = [];
}

/** The stored events past each feed's events_indexed mark (after a crash, or a failed transaction). */
export function loadUnindexed(l: LedgerCore): UnindexedEvent[] {
  const out: UnindexedEvent[] = [];
  const rows = l.db.prepare(`
    SELECT f.id AS feed, e.seq, e.json FROM feeds f LEFT JOIN events_indexed x ON x.feed = f.id
    JOIN entries e ON e.id BETWEEN ${entryIdSql('f.id', 'coalesce(x.seq, 0) + 1')} AND ${entryIdSql('f.id', String(2 ** SEQ_BITS - 1))}
    JOIN events ev ON ev.id = e.id -- access events only: an entry with no policy key is not always one (a clock.tick has no resource)
    WHERE e.pkey IS NULL AND e.id NOT IN (SELECT id FROM held)`).iterate() as Iterable<{ feed: number; seq: number; json: string }>;
  for (const r of rows) {
    const b = (JSON.parse(r.json) as { body: { resource: string; member?: string | null; at: number } }).body;
    out.push({ feed: r.feed, seq: r.seq, member: b.member ?? null, resource: b.resource, at: b.at });
  }
  return out;
}

export function* eventRefs(l: LedgerCore): IterableIterator<EventRef> {
  for (const row of l.db.prepare('SELECT f.author, e.seq, e.hash, ev.resource FROM events ev JOIN entries e ON e.id = ev.id JOIN feeds f ON f.id = e.feed').iterate() as Iterable<{ author: string; seq: number; hash: Buffer; resource: string }>) {
    yield { author: row.author, seq: row.seq, hash: row.hash.toString('hex'), resource: row.resource };
  }
}

export function accessLog(l: LedgerCore, q: AccessLogQuery = {}): { rows: AccessLogRow[]; next: string | null } {
  const limit = Math.min(Math.max(q.limit ?? 50, 1), 1000);
  // By member or by resource through its index table (schema 4), once it holds every event; a
  // read-only ledger cannot complete it, and scans the events instead.
  let by = q.member !== undefined ? { table: 'events_by_member', col: 'member', value: q.member }
    : q.resource !== undefined ? { table: 'events_by_resource', col: 'resource', value: q.resource } : null;
  if (by && l.unindexed.length) {
    if (l.readonly) by = null;
    else write(l, () => indexEvents(l));
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
    // The id stays text: ids pass 2^53 (migrations.ts, SEQ_BITS); SQLite compares it as an integer.
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
    const batch = l.db.prepare(sql + ' OFFSET ?').all(...args, limit * 2, offset) as Array<Record<string, unknown>>;
    offset += batch.length;
    for (const r of batch) {
      cursor = `${r.at as number}:${r.id as string}`;
      if (!l.state.eventIsTrusted(r.author as string, r.seq as number, r.resource as string)) continue;
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
/** An access event's body without the fields the events table indexes. */
function eventDetail(json: string): Record<string, unknown> {
  const { resource: _r, member: _m, at: _a, allow: _l, ...rest } = (JSON.parse(json) as { body: Record<string, unknown> }).body;
  return rest;
}
