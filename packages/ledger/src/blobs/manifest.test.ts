import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { BlobError } from './errors.js';
import { LIMITS } from '@keymesh/cdc-native';
import { CHUNK_LIMITS, diff, EMPTY_SHA256, encodeManifest, manifestId, parseManifest, uniqueChunks, type Manifest } from './manifest.js';

const h = (s: string) => createHash('sha256').update(s).digest('hex');
const params = { min: 16384, avg: 65536, max: 262144, level: 1 as const };
const m1: Manifest = {
  v: 1, size: 300, hash: h('blob'), params,
  chunks: [{ hash: h('a'), size: 100 }, { hash: h('b'), size: 100 }, { hash: h('a'), size: 100 }],
};

function badManifest(input: unknown): string {
  try {
    parseManifest(input);
  } catch (err) {
    expect(err).toBeInstanceOf(BlobError);
    expect((err as BlobError).code).toBe('BLOB_BAD_MANIFEST');
    return (err as BlobError).message;
  }
  throw new Error('expected BLOB_BAD_MANIFEST');
}

describe('manifest', () => {
  it("uses the chunker's parameter limits (the protocol keeps a copy: it cannot depend on the addon)", () => {
    expect(CHUNK_LIMITS).toEqual(LIMITS);
  });

  it('round-trips through its canonical encoding with a stable id', () => {
    const text = encodeManifest(m1);
    expect(text.startsWith('{"chunks":[{"hash":')).toBe(true); // sorted keys
    expect(parseManifest(text)).toEqual(m1);
    const reordered = { params: { level: 1, max: 262144, avg: 65536, min: 16384 }, chunks: m1.chunks, hash: m1.hash, size: 300, v: 1 };
    expect(manifestId(parseManifest(reordered))).toBe(manifestId(m1));
    expect(manifestId(m1)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('accepts the empty blob only with the hash of no bytes', () => {
    expect(parseManifest({ v: 1, size: 0, hash: EMPTY_SHA256, chunks: [], params }).size).toBe(0);
    expect(badManifest({ v: 1, size: 0, hash: h('x'), chunks: [], params })).toContain('hash: must be the SHA-256 of no bytes');
  });

  it('names each problem and the fix', () => {
    expect(badManifest('{nope')).toContain('not JSON');
    expect(badManifest(null)).toContain('(manifest)');
    expect(badManifest({ ...m1, v: 2 })).toContain('v:');
    expect(badManifest({ ...m1, extra: 1 })).toContain('extra');
    expect(badManifest({ ...m1, hash: h('x').toUpperCase() })).toContain('hash: must be a SHA-256 digest as 64 lower-case hex digits');
    expect(badManifest({ ...m1, chunks: [...m1.chunks, { hash: h('c'), size: 0 }] })).toContain('chunks.3.size');
    expect(badManifest({ ...m1, size: 301 })).toContain('size: is 301 but the chunk sizes add up to 300');
    expect(badManifest({ ...m1, size: 300_000, chunks: [{ hash: h('a'), size: 300_000 }] })).toContain('larger than params.max');
    expect(badManifest({ ...m1, params: { ...params, min: 100_000 } })).toContain('min <= avg <= max');
    expect(badManifest({ ...m1, v: 2 })).toContain('as made by BlobStore.put()');
  });

  it('diff lists the distinct new chunks and their bytes', () => {
    expect(uniqueChunks(m1).map((c) => c.hash)).toEqual([h('a'), h('b')]);
    const m2: Manifest = {
      ...m1, size: 400, hash: h('blob2'),
      chunks: [{ hash: h('a'), size: 100 }, { hash: h('c'), size: 100 }, { hash: h('c'), size: 100 }, { hash: h('d'), size: 100 }],
    };
    expect(diff(m1, m2)).toEqual({ chunks: [{ hash: h('c'), size: 100 }, { hash: h('d'), size: 100 }], bytes: 200, totalBytes: 400, ratio: 0.5 });
    expect(diff(null, m1)).toMatchObject({ bytes: 200, totalBytes: 300 });
    expect(diff(m1, m1).bytes).toBe(0);
  });
});
