// Test helpers for the blob store: deterministic bytes and temp directories.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Deterministic pseudo-random bytes (xorshift32), so sizes and cut points repeat run to run. */
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

/** A temp directory under os.tmpdir() and its removal. */
export function tempDir(prefix: string): { dir: string; file: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `keymesh-${prefix}-`));
  return { dir, file: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
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
