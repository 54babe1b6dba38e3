/** Forensic verify: every page and every stored entry checked from scratch (`keymesh-ledger verify`). */
import { decodeEntry, entryHashBytes, fromHex, signingMessage, toHex, type AnyEntry } from '@keymesh/protocol';
import { inFeedSql } from './migrations.js';
import { live, type LedgerCore } from './core.js';
import { count } from './queries.js';

export function verify(l: LedgerCore, onProgress?: (done: number, total: number) => void): Array<{ author: string; seq: number; reason: string }> {
  live(l);
  const problems: Array<{ author: string; seq: number; reason: string }> = [];
  // Every page of the file first: an open checks only what a crash can damage (checkOnOpen).
  // Problems of the file itself are reported under the author '(file)'.
  const file = (reason: string) => problems.push({ author: '(file)', seq: 0, reason });
  try {
    for (const r of l.db.pragma('quick_check') as Array<{ quick_check: string }>) if (r.quick_check !== 'ok') file(`SQLite quick_check: ${r.quick_check}`);
  } catch (err) {
    file(`SQLite quick_check failed: ${(err as Error).message}`);
  }
  try {
    verifyEntries(l, problems, onProgress);
  } catch (err) {
    // A damaged page can stop the walk through the entries: what was found so far stands.
    file(`reading the entries failed: ${(err as Error).message}`);
  }
  return problems;
}

export function verifyEntries(l: LedgerCore, problems: Array<{ author: string; seq: number; reason: string }>, onProgress?: (done: number, total: number) => void): void {
  const total = count(l);
  let done = 0;
  let author = '';
  let prev: string | null = null;
  let expect = 1;
  for (const row of l.db.prepare(`SELECT f.author, e.seq, e.hash, e.json FROM feeds f JOIN entries e ON ${inFeedSql('f.id', 'e.id')} ORDER BY f.author, e.id`).iterate() as Iterable<{ author: string; seq: number; hash: Buffer; json: string }>) {
    if (row.author !== author) {
      author = row.author;
      prev = null;
      expect = 1;
    }
    const fail = (reason: string) => problems.push({ author: row.author, seq: row.seq, reason });
    if (row.seq !== expect) fail(`gap: expected seq ${expect}`);
    expect = row.seq + 1;
    let e: AnyEntry;
    try {
      e = decodeEntry(row.json);
    } catch (err) {
      fail((err as Error).message);
      prev = row.hash.toString('hex');
      continue;
    }
    const hash = entryHashBytes(e, l.crypto);
    if (Buffer.compare(Buffer.from(hash), row.hash) !== 0) fail('stored hash does not match the content');
    if (e.author !== row.author || e.seq !== row.seq) fail('stored author/seq do not match the content');
    if (e.prev !== prev) fail(`prev ${String(e.prev).slice(0, 12)}… does not match the hash of seq ${row.seq - 1}`);
    if (!l.crypto.verify(fromHex(e.author), signingMessage(hash), fromHex(e.sig))) fail('signature does not verify');
    if (e.type === 'site.genesis' ? toHex(hash) !== l.site : e.site !== l.site) fail('entry is for another site');
    prev = toHex(hash);
    if (++done % 10000 === 0) onProgress?.(done, total);
  }
  for (const f of l.state.forks()) problems.push({ author: f.author, seq: f.seq, reason: `fork: ${f.hashes.length} different signed entries for this seq` });
  for (const h of gappedFeeds(l, -1)) problems.push({ author: h.author, seq: h.seq, reason: `the feed's head is seq ${h.seq} but ${h.n} entries are stored (entries are missing)` });
  onProgress?.(total, total);
}

/**
 * Feeds whose stored seqs are not exactly 1..head (seqs are unique and ≥ 1, so a count below
 * the highest seq means a gap). Entries are only ever stored contiguously: a gap means the
 * file was tampered with or damaged.
 */
export function gappedFeeds(l: LedgerCore, limit: number): Array<{ author: string; seq: number; n: number }> {
  return l.db.prepare(`
    SELECT f.author, max(e.seq) AS seq, count(e.seq) AS n FROM feeds f JOIN entries e ON ${inFeedSql('f.id', 'e.id')}
    GROUP BY f.id HAVING n != seq LIMIT ?`).all(limit) as Array<{ author: string; seq: number; n: number }>;
}
