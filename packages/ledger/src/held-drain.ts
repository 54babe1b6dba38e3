/**
 * The end of an ingest (and of an append that grants authority): held entries drained once
 * their keys gain authority, fork proofs and the quarantine recorded, the state materialised.
 */
import { FORK_PROOFS_PER_SEQ, type VerifyMode } from './types.js';
import { grantsAuthority, ingestContext, type IngestContext, type LedgerCore } from './core.js';
import { materialise, noteFork } from './materialise.js';
import { ingestFeed } from './feed-run.js';
import { rejectBadSignature, signatureOk } from './signatures.js';

/**
 * Stores the held entries of keys that have gained authority at their lowest held seq (an
 * enrolment, a member's key, an admin), until no more do. Runs after any write that changed
 * such keys.
 */
export function drainHeld(l: LedgerCore, ctx: IngestContext, verify: VerifyMode): boolean {
  if (!ctx.everything && ![...ctx.touched].some(grantsAuthority)) return false;
  // Each pass takes its authors out of the held set (ingestFeed authorises them): it ends.
  let drained = false;
  for (;;) {
    // What ingestFeed leaves held is past the key's authority, so a pass ends with it.
    const ready = l.pending.heldAuthors().filter((a) => l.state.hasAuthorityAt(a, l.pending.firstHeld(a) ?? 1));
    if (ready.length === 0) return drained;
    for (const a of ready) ingestFeed(l, a, [], ctx, verify);
    drained = true;
  }
}

/** After an append: drains what its keys released (drainHeld); true if a fork was found. */
export function releaseHeld(l: LedgerCore, touched: Set<string>): boolean {
  if (![...touched].some(grantsAuthority)) return false;
  const ctx = ingestContext(l);
  ctx.touched = touched;
  drainHeld(l, ctx, 'each');
  recordFindings(l, ctx);
  return ctx.everything;
}

/** Records the forks found and the quarantine, and materialises: the end of every ingest. */
export function finishIngest(l: LedgerCore, ctx: IngestContext): void {
  recordFindings(l, ctx);
  for (const k of materialise(l, ctx.touched, ctx.everything)) ctx.result.changed.push(k);
}

export function recordFindings(l: LedgerCore, ctx: IngestContext): void {
  for (const { p, original } of ctx.forkRows) {
    // Only a validly signed second entry is proof; anything else would let a forger freeze a feed.
    if (!signatureOk(l, p)) {
      rejectBadSignature(p, ctx.reject);
      continue;
    }
    // Proof enough, and bounded: a feed is untrusted from its lowest forked seq on, so entries
    // at later seqs add nothing, nor do more than FORK_PROOFS_PER_SEQ at one seq (a forker can
    // sign any number). Known proof changes nothing (sync may bring it again).
    const bound = l.stmt.forkBound.get({ author: p.entry.author, seq: p.entry.seq }) as { low: number | null; here: number };
    if ((bound.low !== null && p.entry.seq > bound.low) || bound.here >= FORK_PROOFS_PER_SEQ
      || l.stmt.insertFork.run(p.entry.author, p.entry.seq, p.hash, p.json, ctx.receivedAt).changes === 0) {
      ctx.result.duplicates++;
      continue;
    }
    noteFork(l.state, p.entry, p.hash, original);
    ctx.result.forks.push({ author: p.entry.author, seq: p.entry.seq });
    ctx.everything = true;
  }
  ctx.forkRows = [];
  l.quarantine.record(ctx.quarantine, ctx.receivedAt);
  ctx.quarantine = [];
}
