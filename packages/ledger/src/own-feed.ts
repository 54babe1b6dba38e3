/**
 * The own-feed guard (DESIGN §4): a node never extends its feed past what it can prove is the
 * whole of it, or a restored node would re-sign seqs it already published and fork its feed.
 */
import { LedgerError } from './errors.js';
import type { LedgerCore } from './core.js';

/**
 * Refuses to extend a feed that is proven ahead elsewhere or forked (DESIGN §4). Proof means
 * a signed entry (DESIGN §3, Evidence): a fork, or a verified entry of this key held in
 * pending; a peer's unsigned `have` never blocks an append. Only ingest (and clear) change
 * the answer, so a passed check is remembered until one of them runs: appends skip queries.
 */
export function assertOwnFeedWritable(l: LedgerCore, author: string): void {
  if (l.writableFeeds.has(author)) return;
  const fork = l.stmt.forksOf.get(author) as { seq: number } | undefined;
  if (fork) {
    throw new LedgerError('SELF_FORK', `two different entries exist for seq ${fork.seq} of ${author.slice(0, 12)}…. This key must stop writing: give the node a new key and have an admin link it to the old feed (node.retire + node.enrol).`, { author, seq: fork.seq });
  }
  const behind = ownFeedBehind(l, author);
  if (behind) {
    throw new LedgerError('SELF_FEED_BEHIND', `a signed entry of ${author.slice(0, 12)}… at seq ${behind.remote} exists (received, signature verified), but this database holds its feed only up to seq ${behind.local}; appending now would fork the feed. If this node was restored from a backup or re-imaged, give it a new key and have an admin enrol it naming the old one; otherwise wait until the missing entries arrive.`, { author, ...behind });
  }
  l.writableFeeds.add(author);
}

export function ownFeedBehind(l: LedgerCore, author: string): { local: number; remote: number } | null {
  const local = l.feeds.get(author)?.seq ?? 0;
  const remote = l.pending.maxSeq(author);
  return remote > local ? { local, remote } : null;
}
