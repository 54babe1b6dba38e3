/**
 * One piece (a chunk, or a manifest) being received in parts. Each part fills one slot (parts
 * start at multiples of BLOB_PART_BYTES, codec.ts), so a repeated or forged part can fill a slot
 * only once; the whole is checked against the hash asked once every slot is filled.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { BLOB_PART_BYTES } from '@keymesh/protocol';
import type { Part } from './codec.js';

export type PartOutcome =
  | { kind: 'partial'; fresh: boolean }
  | { kind: 'complete'; bytes: Buffer }
  | { kind: 'mismatch'; actual: string }
  | { kind: 'refused'; why: 'oversized' | 'malformed'; reason: string };

export class Assembly {
  private buf: Buffer | null = null;
  private readonly slots = new Set<number>();
  /** Times this piece was asked for. */
  attempts = 1;

  /** `size`: the size the manifest gives (chunks); undefined for a manifest, then at most `limit`. */
  constructor(readonly hash: string, readonly size: number | undefined, private readonly limit: number) {}

  add(p: Part): PartOutcome {
    if (this.size !== undefined && p.total !== this.size) {
      return { kind: 'refused', why: 'malformed', reason: `a part says the piece has ${p.total} bytes; the manifest says ${this.size}` };
    }
    if (p.total > this.limit) return { kind: 'refused', why: 'oversized', reason: `a piece of ${p.total} bytes; at most ${this.limit} taken` };
    if (this.buf === null) this.buf = Buffer.alloc(p.total);
    else if (this.buf.byteLength !== p.total) {
      return { kind: 'refused', why: 'malformed', reason: `a part says the piece has ${p.total} bytes; earlier parts said ${this.buf.byteLength}` };
    }
    const slot = p.offset / BLOB_PART_BYTES;
    if (this.slots.has(slot)) return { kind: 'partial', fresh: false };
    this.slots.add(slot);
    this.buf.set(p.bytes, p.offset);
    if (this.slots.size < Math.ceil(p.total / BLOB_PART_BYTES)) return { kind: 'partial', fresh: true };
    const bytes = this.buf;
    const actual = createHash('sha256').update(bytes).digest('hex');
    this.reset();
    return actual === this.hash ? { kind: 'complete', bytes } : { kind: 'mismatch', actual };
  }

  /** Forgets the parts received (after a mismatch, the piece is asked again whole). */
  reset(): void {
    this.buf = null;
    this.slots.clear();
  }
}
