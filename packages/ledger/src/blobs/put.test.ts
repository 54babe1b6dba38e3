// put() on two threads (blobs larger than one slab): the manifest, stored chunks and blob hash
// must be exactly those of a one-shot chunking of the same bytes, however the input is split
// and whatever else the store's hashing thread is doing; failures leave the store usable.
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { createCipheriv, createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chunk } from '@keymesh/cdc-native';
import { BlobStore } from './blob-store.js';
import { BlobError } from './errors.js';
import type { Manifest } from './manifest.js';
import { slabBytes } from './slab.js';

const MiB = 1 << 20;
const PARAMS = { min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024, level: 1 as const };
const SLAB = slabBytes(PARAMS.max);

/** Deterministic bytes: an AES-CTR keystream under a key made from `seed`. */
function bytes(seed: number, n: number): Buffer {
  const key = createHash('sha256').update(`put.test ${seed}`).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n));
}

/** The manifest a one-shot chunking of `data` gives (not put()'s code path). */
function expected(data: Uint8Array): Pick<Manifest, 'size' | 'hash' | 'chunks'> {
  return {
    size: data.length,
    hash: createHash('sha256').update(data).digest('hex'),
    chunks: chunk(data, { ...PARAMS, hash: true }).map((c) => ({ hash: Buffer.from(c.hash!).toString('hex'), size: c.length })),
  };
}

function* pieces(data: Uint8Array, sizes: number[]): Generator<Uint8Array> {
  for (let off = 0, i = 0; off < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield data.subarray(off, off + n);
    off += n;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'keymesh-put-'));
let n = 0;
const open: BlobStore[] = [];
function newStore(): BlobStore {
  const s = BlobStore.open(join(dir, `s${n++}.db`), { synchronous: 'normal' });
  open.push(s);
  return s;
}
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('put() across slabs', () => {
  it('gives the one-shot manifest for every way of splitting the input, and reads back the bytes', async () => {
    const data = bytes(1, 2 * SLAB + 3 * MiB + 12345);
    const want = expected(data);
    const s = newStore();
    const splits: [string, () => Iterable<Uint8Array> | Uint8Array][] = [
      ['one array', () => data],
      ['64 KiB buffers', () => pieces(data, [65536])],
      ['odd sizes', () => pieces(data, [1_000_003, 7, SLAB + 1, 300_001])],
      ['a buffer larger than two slabs', () => pieces(data, [2 * SLAB + 5, MiB])],
    ];
    for (const [name, source] of splits) {
      const m = await s.put(source(), { pin: false });
      expect({ name, size: m.size, hash: m.hash, chunks: m.chunks }).toEqual({ name, ...want });
    }
    expect(s.stats().chunks).toBe(new Set(want.chunks.map((c) => c.hash)).size);
    const m = await s.put(data);
    expect((await s.getBytes(m)).equals(data)).toBe(true);
  });

  it('ends exactly at a slab boundary', async () => {
    const s = newStore();
    for (const size of [SLAB, 2 * SLAB]) {
      const data = bytes(2, size);
      const m = await s.put(pieces(data, [MiB]));
      expect({ hash: m.hash, chunks: m.chunks }).toEqual({ hash: expected(data).hash, chunks: expected(data).chunks });
    }
  });

  it('keeps concurrent puts on one store apart', async () => {
    const s = newStore();
    const blobs = [bytes(3, 2 * SLAB + 1000), bytes(4, SLAB + 77), bytes(5, 3 * SLAB)];
    async function* slow(data: Uint8Array) {
      for (const p of pieces(data, [3 * MiB + 1])) {
        await new Promise((r) => setImmediate(r)); // let the other puts interleave
        yield p;
      }
    }
    const ms = await Promise.all(blobs.map((b) => s.put(slow(b))));
    ms.forEach((m, i) => expect({ hash: m.hash, chunks: m.chunks }).toEqual({ hash: expected(blobs[i]!).hash, chunks: expected(blobs[i]!).chunks }));
    for (let i = 0; i < blobs.length; i++) expect((await s.getBytes(ms[i]!)).equals(blobs[i]!)).toBe(true);
  });

  it('fails a put whose source fails, and the next put on the store still works', async () => {
    const s = newStore();
    const data = bytes(6, 3 * SLAB);
    const failure = new Error('disk read failed');
    async function* broken() {
      yield data.subarray(0, 2 * SLAB + MiB);
      throw failure;
    }
    await expect(s.put(broken())).rejects.toBe(failure);
    expect(s.pinned()).toEqual([]);
    const m = await s.put(data);
    expect(m.hash).toBe(expected(data).hash);
  });

  it('fails a put in progress with BLOB_CLOSED when the store closes', async () => {
    const s = newStore();
    const data = bytes(7, 3 * SLAB);
    let closeNow!: () => void;
    const closed = new Promise<void>((r) => (closeNow = r));
    async function* source() {
      yield data.subarray(0, 2 * SLAB);
      closeNow();
      await new Promise((r) => setTimeout(r, 20));
      yield data.subarray(2 * SLAB);
    }
    const put = s.put(source());
    await closed;
    s.close();
    const err = await put.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(BlobError);
    expect((err as BlobError).code).toBe('BLOB_CLOSED');
  });
});
