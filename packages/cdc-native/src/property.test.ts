// Property tests: the two implementations agree on random inputs and parameters, and streaming
// gives the one-shot cuts however the input is split into buffers.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { chunk, chunkLengths, chunkStream, Chunker, type ChunkParamsInput, type ImplName } from './index.js';
import { splitAt, xorshiftBytes } from '@keymesh/testkit/bytes';

/** Valid parameter sets, small enough that inputs of a few hundred KiB hold many chunks. */
const paramsArb: fc.Arbitrary<Required<ChunkParamsInput>> = fc
  .record({
    min: fc.integer({ min: 64, max: 4096 }),
    avgBits: fc.double({ min: 8, max: 14, noNaN: true }),
    maxFactor: fc.double({ min: 1, max: 8, noNaN: true }),
    level: fc.integer({ min: 0, max: 3 }),
    seed: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
  })
  .map(({ min, avgBits, maxFactor, level, seed }) => {
    const avg = Math.max(min, Math.round(2 ** avgBits));
    const max = Math.min(16_777_216, Math.max(1024, avg, Math.round(avg * maxFactor)));
    return { min, avg, max, level, seed };
  });

/** Random, all-zero (cut at max) and short-period (repeating) inputs. */
const inputArb: fc.Arbitrary<Uint8Array> = fc
  .record({
    kind: fc.constantFrom('random', 'random', 'zeros', 'pattern'),
    length: fc.integer({ min: 0, max: 300_000 }),
    seed: fc.integer({ min: 1, max: 0xffffffff }),
    period: fc.integer({ min: 1, max: 5000 }),
  })
  .map(({ kind, length, seed, period }) => {
    if (kind === 'zeros') return new Uint8Array(length);
    const random = xorshiftBytes(kind === 'random' ? length : Math.min(period, length), seed);
    if (kind === 'random') return random;
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = random[i % period]!;
    return out;
  });

function streamed(data: Uint8Array, cuts: number[], params: ChunkParamsInput, impl: ImplName): number[] {
  const c = new Chunker({ ...params, impl });
  const lengths: number[] = [];
  for (const part of splitAt(data, cuts)) lengths.push(...c.push(part).map((x) => x.length));
  lengths.push(...c.finish().map((x) => x.length));
  return lengths;
}

describe('native and ts', () => {
  it('agree on random inputs and random parameters', () => {
    fc.assert(fc.property(inputArb, paramsArb, (data, params) => {
      const ts = Array.from(chunkLengths(data, { ...params, impl: 'ts' }));
      const native = Array.from(chunkLengths(data, { ...params, impl: 'native' }));
      expect(ts).toEqual(native);
      expect(ts.reduce((a, b) => a + b, 0)).toBe(data.length);
      for (const len of ts.slice(0, -1)) expect(len).toBeLessThanOrEqual(params.max);
    }), { numRuns: 120 });
  });
});

describe.each<ImplName>(['native', 'ts'])('streaming (%s)', (impl) => {
  it('gives the one-shot cuts however the input is split', () => {
    const splits = fc.integer({ min: 0, max: 40 }).chain((n) =>
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n }));
    fc.assert(fc.property(inputArb, paramsArb, splits, (data, params, fractions) => {
      const cuts = fractions.map((f) => Math.floor(f * data.length)).sort((a, b) => a - b);
      const expected = Array.from(chunkLengths(data, { ...params, impl }));
      expect(streamed(data, cuts, params, impl)).toEqual(expected);
    }), { numRuns: 80 });
  });

  it('gives the one-shot cuts with tiny buffers (1–7 bytes) too', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 0xffffffff }), fc.integer({ min: 1, max: 7 }), (seed, step) => {
      const data = xorshiftBytes(20_000, seed);
      const params = { min: 64, avg: 256, max: 1024, level: 1 };
      const cuts: number[] = [];
      for (let i = step; i < data.length; i += step) cuts.push(i);
      expect(streamed(data, cuts, params, impl)).toEqual(Array.from(chunkLengths(data, { ...params, impl })));
    }), { numRuns: 20 });
  });

  it('chunkStream yields the same chunks, hashes and bytes as chunk()', async () => {
    await fc.assert(fc.asyncProperty(inputArb, paramsArb, fc.integer({ min: 1, max: 70_000 }), async (data, params, step) => {
      const expected = chunk(data, { ...params, impl, hash: true, data: true });
      const parts: Uint8Array[] = [];
      for (let i = 0; i < data.length; i += step) parts.push(data.subarray(i, i + step));
      const got = [];
      for await (const c of chunkStream(parts, { ...params, impl, hash: true, data: true })) got.push(c);
      expect(got.map((c) => [c.offset, c.length])).toEqual(expected.map((c) => [c.offset, c.length]));
      expect(got.map((c) => Buffer.from(c.hash!).toString('hex'))).toEqual(expected.map((c) => Buffer.from(c.hash!).toString('hex')));
      got.forEach((c) => expect(Buffer.compare(c.data!, data.subarray(c.offset, c.offset + c.length))).toBe(0));
    }), { numRuns: 30 });
  });
});
