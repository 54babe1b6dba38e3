// Parameter validation, implementation selection, the Transform front end and the constants.
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CdcError, chunk, Chunker, createChunkTransform, GEAR, implementation, MASKS, resolveParams, type Chunk,
} from './index.js';
import { tsFactory } from './engine-ts.js';
import { factoryFor, selectImplementation } from './select.js';
import { xorshiftBytes } from '@keymesh/testkit/bytes';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CdcError);
    return (err as CdcError).code;
  }
  return undefined;
}

describe('gear table and masks', () => {
  it('are the crate v2020 constants', () => {
    expect(GEAR).toHaveLength(256);
    expect(GEAR.slice(0, 3)).toEqual([0x3b5d3c7d207e37dcn, 0x784d68ba91123086n, 0xcd52880f882e7298n]);
    expect(MASKS[5]).toBe(0x0000000001804110n);
    expect(MASKS[25]).toBe(0x0000db3777577000n);
  });
});

describe('parameters', () => {
  it('defaults to 16/64/256 KiB, level 1, no seed', () => {
    expect(resolveParams()).toEqual({ min: 16384, avg: 65536, max: 262144, level: 1, seed: 0n });
  });

  it.each([
    [{ min: 63 }, /min must be an integer from 64/],
    [{ min: 1.5 }, /min must be an integer/],
    [{ avg: 5_000_000 }, /avg must be an integer from 256 to 4194304/],
    [{ max: 100 }, /max must be an integer from 1024/],
    [{ min: 8192, avg: 4096, max: 65536 }, /min <= avg <= max/],
    [{ avg: 65536, max: 32768 }, /min <= avg <= max/],
    [{ level: 4 }, /level .* must be 0, 1, 2 or 3/],
    [{ seed: -1 }, /seed must be an unsigned 64-bit integer/],
    [{ seed: 1n << 64n }, /seed must be an unsigned 64-bit integer/],
  ])('rejects %j with a message saying what to change', (params, message) => {
    expect(codeOf(() => resolveParams(params))).toBe('CDC_BAD_PARAMS');
    expect(() => resolveParams(params)).toThrow(message);
    expect(codeOf(() => new Chunker(params))).toBe('CDC_BAD_PARAMS');
  });

  it('rejects non-byte input and use after finish', () => {
    expect(codeOf(() => chunk('text' as unknown as Uint8Array))).toBe('CDC_BAD_INPUT');
    const c = new Chunker();
    c.finish();
    expect(codeOf(() => c.push(new Uint8Array(1)))).toBe('CDC_BAD_INPUT');
  });
});

describe('implementation selection', () => {
  const failing = () => {
    throw new Error('Cannot find module keymesh_cdc.node');
  };
  const fakeNative = { impl: 'native' as const, create: tsFactory.create };

  it('prefers the addon, falls back to ts, and honours KEYMESH_CDC_IMPL', () => {
    expect(implementation).toBe('native');
    expect(selectImplementation(undefined, () => fakeNative).factory.impl).toBe('native');
    expect(selectImplementation(undefined, failing).factory.impl).toBe('ts');
    expect(selectImplementation('ts', () => fakeNative).factory.impl).toBe('ts');
    expect(selectImplementation('native', () => fakeNative).factory.impl).toBe('native');
  });

  it('fails clearly when native is forced but cannot load, or the value is unknown', () => {
    expect(codeOf(() => selectImplementation('native', failing))).toBe('CDC_NATIVE_UNAVAILABLE');
    expect(() => selectImplementation('native', failing)).toThrow(/npm rebuild @keymesh\/cdc-native.*KEYMESH_CDC_IMPL=ts/);
    expect(codeOf(() => selectImplementation('rust', failing))).toBe('CDC_BAD_IMPL');
    const sel = selectImplementation(undefined, failing);
    expect(codeOf(() => factoryFor(sel, 'native'))).toBe('CDC_NATIVE_UNAVAILABLE');
  });

  it('reports the forced implementation in a fresh process', () => {
    const index = new URL('./index.js', import.meta.url).href;
    const run = (env: string) => execFileSync(process.execPath,
      ['--input-type=module', '-e', `import('${index}').then(m => console.log(m.implementation))`],
      { env: { ...process.env, KEYMESH_CDC_IMPL: env }, encoding: 'utf8' }).trim();
    expect(run('ts')).toBe('ts');
    expect(run('native')).toBe('native');
    expect(run('')).toBe('native');
  });
});

describe('createChunkTransform', () => {
  it('turns a byte stream into the chunks chunk() finds, with SHA-256', async () => {
    const data = xorshiftBytes(500_000, 7);
    const params = { min: 2048, avg: 8192, max: 32768, level: 2 };
    const got: Chunk[] = [];
    const parts = Array.from({ length: 50 }, (_, i) => Buffer.from(data.subarray(i * 10_000, (i + 1) * 10_000)));
    await pipeline(Readable.from(parts), createChunkTransform({ ...params, hash: true }), async (source) => {
      for await (const c of source) got.push(c as Chunk);
    });
    expect(got).toEqual(chunk(data, { ...params, hash: true }));
  });
});

