/** Deterministic bytes, digests and splits shared by the chunker's and the blob store's tests. */
import { createHash } from 'node:crypto';

/** xorshift32 bytes, as in the FastCDC reference vector: each step, the top byte of the state. */
export function xorshiftBytes(length: number, seed = 2463534242): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** Deterministic pseudo-random bytes (xorshift32 words), so sizes and cut points repeat run to run. */
export function prng(seed: number): (n: number) => Buffer {
  let x = seed >>> 0 || 1;
  return (n) => {
    const words = new Uint32Array(Math.ceil(n / 4));
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = x >>> 0;
    }
    return Buffer.from(words.buffer, 0, n);
  };
}

/** FNV-1a 64-bit of a string's UTF-8 bytes, as 16 hex digits. */
export function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text)) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Splits data at the given sorted cut offsets (views, no copies). */
export function splitAt(data: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let prev = 0;
  for (const c of cuts) {
    parts.push(data.subarray(prev, c));
    prev = c;
  }
  parts.push(data.subarray(prev));
  return parts;
}

/** Splits bytes into pieces of the given repeating sizes, as a stream would deliver them. */
export function* pieces(data: Uint8Array, sizes: number[]): Generator<Uint8Array> {
  let i = 0;
  for (let off = 0; off < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield data.subarray(off, off + n);
    off += n;
  }
}
