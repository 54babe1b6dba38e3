import { describe, it, expect } from '@jest/globals';
import { checkManifest, manifestDiff, manifestId, parseManifest, EMPTY_SHA256, type Manifest } from './blob-manifest.js';
import { pureCrypto } from './crypto/pure.js';
import { defaultCrypto } from './crypto/index.js';
import { toHex, utf8 } from './bytes.js';

const h = (s: string) => toHex(defaultCrypto.sha256(utf8(s)));
const params = { min: 16384, avg: 65536, max: 262144, level: 1 as const };
const m: Manifest = { v: 1, size: 200, hash: h('blob'), params, chunks: [{ hash: h('a'), size: 100 }, { hash: h('b'), size: 100 }] };

describe('blob manifest format', () => {
  it('has one identity in Node and in the browser provider', () => {
    expect(manifestId(m)).toBe(manifestId(m, pureCrypto));
    expect(manifestId(parseManifest(JSON.stringify({ chunks: m.chunks, params, v: 1, hash: m.hash, size: 200 })))).toBe(manifestId(m));
  });

  it('refuses a bad manifest with BAD_MANIFEST and says which field', () => {
    expect(() => parseManifest({ ...m, size: 201 })).toThrow(expect.objectContaining({ code: 'BAD_MANIFEST' }));
    expect(() => parseManifest('{nope')).toThrow(expect.objectContaining({ code: 'BAD_MANIFEST' }));
    expect(checkManifest({ ...m, extra: 1 })).toMatchObject({ ok: false, notJson: false });
    expect(checkManifest({ v: 1, size: 0, hash: EMPTY_SHA256, chunks: [], params })).toMatchObject({ ok: true });
  });

  it('refuses a chunk listed twice with two sizes (one content has one size); a repeat with its size is fine', () => {
    const a = { hash: h('a'), size: 100 };
    expect(checkManifest({ ...m, size: 200, chunks: [a, a] })).toMatchObject({ ok: true });
    const r = checkManifest({ ...m, size: 150, chunks: [a, { hash: h('a'), size: 50 }] });
    expect(r).toMatchObject({ ok: false, notJson: false });
    expect(!r.ok && r.issues).toEqual([expect.objectContaining({ path: ['chunks', 1, 'size'] })]);
  });

  it('a diff ships only the chunks the old manifest lacks', () => {
    const next: Manifest = { ...m, size: 300, hash: h('blob2'), chunks: [...m.chunks, { hash: h('c'), size: 100 }] };
    expect(manifestDiff(m, next)).toEqual({ chunks: [{ hash: h('c'), size: 100 }], bytes: 100, totalBytes: 300, ratio: 1 / 3 });
  });
});
