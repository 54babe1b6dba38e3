/** What a `PubSubSync` counted (for status pages, logs and tests). */
import { Buffer } from 'node:buffer';
import type { Heads } from '@keymesh/protocol';

export class SyncCounters {
  /** Entries stored from the bus. */
  accepted = 0;
  haves = 0;
  batchesSent = 0;
  /** Wants addressed to this node that it answered. */
  wantsAnswered = 0;
  /** Wants or batches seen that were not addressed to this node (never answered). */
  misaddressed = 0;
  /** Payloads dropped as bad (size, JSON, schema, signature, topic). */
  invalid = 0;
  publishFailed = 0;
}

/**
 * Heads that fit `maxBytes` once encoded: the node's own feed first, then the others. A site
 * has tens of feeds; one with more sends the rest in later rounds' wants, not in its have.
 */
export function boundedHeads(heads: Heads, self: string, maxBytes: number): Heads {
  const entries = Object.entries(heads);
  if (Buffer.byteLength(JSON.stringify(heads)) <= maxBytes) return heads;
  const out: Heads = {};
  let size = 2;
  if (heads[self] !== undefined) (out[self] = heads[self]!, size += self.length + 20);
  for (const [a, s] of entries) {
    if (a === self) continue;
    size += a.length + 20;
    if (size > maxBytes) break;
    out[a] = s;
  }
  return out;
}
