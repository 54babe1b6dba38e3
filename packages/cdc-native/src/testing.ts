// Deterministic inputs and digests shared by the tests (no files outside the package).
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
