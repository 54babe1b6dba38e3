/**
 * The shared memory put() and its hashing thread work on, and the messages between them (both
 * sides import this file). put() copies the input into a slab, cuts it, lists the chunks that lie
 * inside it in `table`, and hands the slab over; the hashing thread hashes the whole slab (the
 * blob hash is one stream) and both threads then claim chunks one at a time through `ctl[1]` and
 * write their SHA-256 into `digests`, so the work splits itself however busy either thread is.
 */
import { createHash } from 'node:crypto';

/** Bytes of one slab: at least 8 MiB, and room for several chunks of the largest size. */
export function slabBytes(maxChunk: number): number {
  return Math.max(8 << 20, 4 * maxChunk);
}

export interface SlabMemory {
  data: SharedArrayBuffer;
  /** Int32: [0] chunks listed, [1] next chunk to claim. */
  ctl: SharedArrayBuffer;
  /** Uint32 pairs: offset in `data`, length. */
  table: SharedArrayBuffer;
  /** 32 bytes per listed chunk. */
  digests: SharedArrayBuffer;
}

/** Views on a slab's memory (made once per side). */
export class SlabViews {
  readonly data: Uint8Array;
  readonly ctl: Int32Array;
  readonly table: Uint32Array;
  readonly digests: Uint8Array;
  constructor(readonly mem: SlabMemory) {
    this.data = new Uint8Array(mem.data);
    this.ctl = new Int32Array(mem.ctl);
    this.table = new Uint32Array(mem.table);
    this.digests = new Uint8Array(mem.digests);
  }
}

export function allocSlab(bytes: number, minChunk: number): SlabViews {
  // Chunks cut from inside a slab are at least `min` long (the last, shorter one is cut from the
  // chunker's carry-over, never from a slab).
  const maxChunks = Math.floor(bytes / minChunk) + 1;
  return new SlabViews({
    data: new SharedArrayBuffer(bytes),
    ctl: new SharedArrayBuffer(8),
    table: new SharedArrayBuffer(8 * maxChunks),
    digests: new SharedArrayBuffer(32 * maxChunks),
  });
}

/** Claims listed chunks until none is left, hashing each; returns how many this thread took. */
export function claimAndHash(s: SlabViews): number {
  const n = Atomics.load(s.ctl, 0);
  let took = 0;
  for (let i = Atomics.add(s.ctl, 1, 1); i < n; i = Atomics.add(s.ctl, 1, 1)) {
    const off = s.table[2 * i]!;
    const len = s.table[2 * i + 1]!;
    s.digests.set(createHash('sha256').update(s.data.subarray(off, off + len)).digest(), 32 * i);
    took++;
  }
  return took;
}

/** put() → hashing thread. `id` tells concurrent put() calls apart; `seq` a put's slabs. */
export type HashRequest =
  | { op: 'slab'; id: number; seq: number; mem: SlabMemory; filled: number }
  | { op: 'end'; id: number }
  | { op: 'abort'; id: number };

/** Hashing thread → put(). */
export type HashReply =
  | { op: 'slabDone'; id: number; seq: number }
  | { op: 'whole'; id: number; hex: string };
