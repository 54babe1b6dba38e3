/**
 * Entries held for later in pending (pending.ts), each verified before it is parked (DESIGN §3,
 * Evidence): those of a key without authority, and those a feed's run leaves past a gap.
 */
import type { PendingEntry } from './pending.js';
import type { IngestContext, LedgerCore, Parsed } from './core.js';
import { rejectBadSignature, signatureOk } from './signatures.js';

/** Holds the entries of a key without authority (bounded apart: pending.ts). */
export function holdFeed(l: LedgerCore, author: string, list: readonly Parsed[], ctx: IngestContext): void {
  if (!l.pending.mayHold(author)) {
    ctx.result.dropped += list.length; // a flood of throwaway keys costs no query per key
    return;
  }
  park(l, author, [...l.pending.rows(author), ...list], 1, ctx);
}

export function park(l: LedgerCore, author: string, cands: PendingEntry[], heldFrom: number, ctx: IngestContext): void {
  if (cands.length === 0) return;
  const verified = (c: PendingEntry) => {
    if (signatureOk(l, c)) return true;
    rejectBadSignature(c, ctx.reject);
    return false;
  };
  const { waiting, dropped, forks } = l.pending.park(author, cands, heldFrom, verified, ctx.receivedAt);
  ctx.result.waiting += waiting;
  ctx.result.dropped += dropped;
  ctx.forkRows.push(...forks);
}
