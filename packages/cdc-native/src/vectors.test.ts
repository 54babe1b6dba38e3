// Fixed expectations: the generated-input vector and the reference image used by the Rust
// crate's own tests (test/fixtures/SekienAkashita.jpg, public domain).
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { chunk, chunkLengths, Chunker, nativeAvailable, type ImplName } from './index.js';
import { fnv1a64, sha256Hex, xorshiftBytes } from '@keymesh/testkit/bytes';

const impls: ImplName[] = ['ts', 'native'];
const PARAMS = { min: 4096, avg: 16384, max: 65535, level: 2 } as const;

describe('the native addon', () => {
  it('is built and loads (npm install builds it with node-gyp)', () => {
    expect(nativeAvailable).toBe(true);
  });
});

describe.each(impls)('%s implementation', (impl) => {
  it('reproduces the generated-input vector (xorshift32, 4 MiB)', () => {
    const data = xorshiftBytes(4_194_304);
    expect(sha256Hex(data)).toBe('edf0a2a9c07a99257dae65d6f212475a171f6c1a12adb47286f0c4b372041eff');
    const lengths = Array.from(chunkLengths(data, { ...PARAMS, impl }));
    expect(lengths).toHaveLength(218);
    expect(lengths.slice(0, 5)).toEqual([4370, 25266, 18045, 24536, 33601]);
    expect(fnv1a64(lengths.join(','))).toBe('4abf8165ac2d51c6');
    expect(lengths.reduce((a, b) => a + b, 0)).toBe(data.length);
  });

  it('matches the reference cut points of SekienAkashita.jpg', () => {
    const data = readFileSync(new URL('../test/fixtures/SekienAkashita.jpg', import.meta.url));
    expect(data.length).toBe(109_466);
    expect(sha256Hex(data)).toBe('d9e749d9367fc908876749d6502eb212fee88c9a94892fb07da5ef3ba8bc39ed');
    const cuts = chunk(data, { ...PARAMS, impl }).map((c) => [c.offset, c.length]);
    expect(cuts).toEqual([
      [0, 19186], [19186, 19279], [38465, 17354], [55819, 16387], [72206, 19940], [92146, 17320],
    ]);
  });

  it('streams the reference image a byte at a time with the same cuts', () => {
    const data = readFileSync(new URL('../test/fixtures/SekienAkashita.jpg', import.meta.url));
    const c = new Chunker({ ...PARAMS, impl });
    const lengths: number[] = [];
    for (let i = 0; i < data.length; i++) lengths.push(...c.push(data.subarray(i, i + 1)).map((x) => x.length));
    lengths.push(...c.finish().map((x) => x.length));
    expect(lengths).toEqual([19186, 19279, 17354, 16387, 19940, 17320]);
  });

  it('cuts all-zero input at max, and short input as one chunk', () => {
    const zeros = new Uint8Array(300_000);
    expect(Array.from(chunkLengths(zeros, { ...PARAMS, impl }))).toEqual([65535, 65535, 65535, 65535, 37860]);
    expect(Array.from(chunkLengths(zeros.subarray(0, 4096), { ...PARAMS, impl }))).toEqual([4096]);
    expect(Array.from(chunkLengths(new Uint8Array(0), { ...PARAMS, impl }))).toEqual([]);
  });
});
