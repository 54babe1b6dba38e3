/**
 * Importing a JSONL file of entries into a ledger (`keymesh-ledger import`): the file is read
 * line by line and ingested in batches, so its size does not matter. Each line goes through
 * the same check as every other path (checkLine: envelope and canonical bytes) and its
 * signature is checked here first, so a line that is not an entry, or whose bytes were
 * changed, is reported with its line number and never reaches the database (a forged copy that
 * waited in `pending` could otherwise be taken for a fork of the genuine entry, or hide as
 * "waiting" forever when its author field was changed). The file may end with fork proofs
 * (keymesh-ledger export writes them after the feeds): they are recorded as forks.
 */
import Database from 'better-sqlite3';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { defaultCrypto, fromHex, signingMessage, toHex, type AnyEntry } from '@keymesh/protocol';
import { checkLine, headerOf } from './check-line.js';
import type { Ledger } from './ledger.js';

export interface ImportRejection {
  /** 1-based line of the file; null when the entry had waited from an earlier batch. */
  line: number | null;
  author: string | null;
  seq: number | null;
  code: string;
  reason: string;
}

export interface ImportStats {
  /** Non-blank lines read. */
  lines: number;
  accepted: number;
  duplicates: number;
  /**
   * Verified lines not kept because the entries held for later were at their bounds (keys
   * without authority, or far ahead of a gap: see pending.ts). Import them again once their
   * author has authority or the entries before them are in.
   */
  dropped: number;
  rejected: ImportRejection[];
  forks: Array<{ author: string; seq: number }>;
}

/** Reads `file` line by line (1-based numbers), skipping blank lines. */
async function* linesOf(file: string): AsyncGenerator<{ n: number; text: string }> {
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 }), crlfDelay: Infinity });
  let n = 0;
  for await (const text of rl) {
    n++;
    if (text.trim() === '') continue;
    yield { n, text };
  }
}

/** The line as an entry whose signature verifies (and its hash), or why not. */
function check(text: string): { entry: AnyEntry; hash: Uint8Array } | { code: string; reason: string } {
  const c = checkLine(text, defaultCrypto);
  if (!c.ok) return { code: c.code, reason: c.reason };
  if (!defaultCrypto.verify(fromHex(c.entry.author), signingMessage(c.hash), fromHex(c.entry.sig))) {
    return { code: 'BAD_SIGNATURE', reason: `signature of ${c.entry.type} seq ${c.entry.seq} by ${c.entry.author.slice(0, 12)}… does not verify` };
  }
  return { entry: c.entry, hash: c.hash };
}

/**
 * The site ids named by valid `site.genesis` lines of `file` (id = hash of the genesis), with
 * the first line each appears on.
 */
export async function genesisSites(file: string): Promise<Array<{ site: string; line: number }>> {
  const found = new Map<string, number>();
  for await (const { n, text } of linesOf(file)) {
    if (!text.includes('"site.genesis"')) continue;
    const c = check(text);
    if ('entry' in c && c.entry.type === 'site.genesis') {
      const site = toHex(c.hash);
      if (!found.has(site)) found.set(site, n);
    }
  }
  return [...found].map(([site, line]) => ({ site, line }));
}

/** Imports `file` into `ledger` in batches of `batch` lines, verifying every signature. */
export async function importFile(ledger: Ledger, file: string, opts: { batch: number; onBatch?: (s: ImportStats) => void }): Promise<ImportStats> {
  const stats: ImportStats = { lines: 0, accepted: 0, duplicates: 0, dropped: 0, rejected: [], forks: [] };
  let chunk: Array<{ n: number; text: string; entry: AnyEntry }> = [];

  const flush = () => {
    if (chunk.length === 0) return;
    const r = ledger.ingest(chunk.map((c) => c.text), { verify: 'each' });
    stats.accepted += r.accepted;
    stats.duplicates += r.duplicates;
    stats.dropped += r.dropped;
    stats.forks.push(...r.forks);
    if (r.rejected.length) {
      // Find the line of each refusal: one of this batch with that author and seq whose bytes
      // are not what the feed now holds there.
      const used = new Set<number>();
      for (const x of r.rejected) {
        let line: number | null = null;
        if (x.author !== null && x.seq !== null) {
          const held = ledger.readEncoded(x.author, x.seq, 1)[0];
          const hit = chunk.find((c) => !used.has(c.n) && c.entry.author === x.author && c.entry.seq === x.seq && c.text !== held);
          if (hit) (used.add(hit.n), (line = hit.n));
        }
        stats.rejected.push({ line, author: x.author, seq: x.seq, code: x.code, reason: x.reason });
      }
    }
    chunk = [];
    opts.onBatch?.(stats);
  };

  for await (const { n, text } of linesOf(file)) {
    stats.lines++;
    const c = check(text);
    if ('entry' in c) chunk.push({ n, text, entry: c.entry });
    else stats.rejected.push({ line: n, ...headerOf(text), code: c.code, reason: c.reason });
    if (chunk.length >= opts.batch) flush();
  }
  flush();
  stats.rejected.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
  return stats;
}

/** Entries stored in the ledger file at `path` that still wait for their predecessor. */
export function waitingIn(path: string): number {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM pending').get() as { n: number }).n;
  } finally {
    db.close();
  }
}
