// @keymesh/cdc-native: FastCDC 2020 chunking with cut points identical to the Rust `fastcdc`
// crate (v2020). Uses the C addon when it loads, the TypeScript fallback otherwise;
// KEYMESH_CDC_IMPL=native|ts forces one, and every entry point takes an `impl` option.
import { Chunker as ChunkerCore, chunkAll, type Chunk } from './chunker.js';
import type { ImplName } from './engine.js';
import { loadNativeFactory } from './engine-native.js';
import type { ChunkParamsInput } from './params.js';
import { factoryFor, IMPL_ENV, selectImplementation } from './select.js';
import { chunkStreamWith, chunkTransformWith, collectInto, type ChunkOutputOptions } from './stream.js';

export { CdcError, type CdcErrorCode } from './errors.js';
export { DEFAULTS, LIMITS, resolveParams, type ChunkParams, type ChunkParamsInput, type Level } from './params.js';
export { GEAR, MASKS } from './gear.js';
export type { Chunk, ChunkSink } from './chunker.js';
export type { ChunkOutputOptions } from './stream.js';
export type { ImplName } from './engine.js';
export { IMPL_ENV };

const selection = selectImplementation(process.env[IMPL_ENV], () => loadNativeFactory());

/** The implementation used when no `impl` option is given: 'native' (C addon) or 'ts'. */
export const implementation: ImplName = selection.factory.impl;
/** Whether the addon loaded (it can be used with `impl: 'native'` even when KEYMESH_CDC_IMPL=ts). */
export const nativeAvailable: boolean = selection.native !== null;
/** Why the addon did not load, or null. */
export const nativeLoadError: unknown = selection.nativeError;

export interface ImplOption {
  /** Force an implementation for this call; default: `implementation`. */
  impl?: ImplName;
}

export type ChunkOptions = ChunkParamsInput & ChunkOutputOptions & ImplOption;

/** Chunks a whole array in place: offsets, lengths and (opt.) SHA-256 / bytes of every chunk. */
export function chunk(data: Uint8Array, opts: ChunkOptions = {}): Chunk[] {
  const chunks: Chunk[] = [];
  chunkAll(factoryFor(selection, opts.impl), data, opts, collectInto(chunks, opts));
  return chunks;
}

/** Chunk lengths only, in a compact array (the cheapest call). */
export function chunkLengths(data: Uint8Array, opts: ChunkParamsInput & ImplOption = {}): Uint32Array {
  let lengths = new Uint32Array(64);
  let n = 0;
  chunkAll(factoryFor(selection, opts.impl), data, opts, (b) => {
    if (n === lengths.length) {
      const grown = new Uint32Array(n * 2);
      grown.set(lengths);
      lengths = grown;
    }
    lengths[n++] = b.length;
  });
  return lengths.slice(0, n);
}

/**
 * Incremental chunker: push() buffers as they arrive, finish() at the end. The cut points are
 * those of chunk() over the concatenated input, however it is split.
 */
export class Chunker extends ChunkerCore {
  constructor(opts: ChunkParamsInput & ImplOption = {}) {
    super(factoryFor(selection, opts.impl), opts);
  }
}

/** Chunks an (async) iterable of buffers, e.g. fs.createReadStream(path). */
export function chunkStream(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: ChunkOptions = {}): AsyncGenerator<Chunk, void, undefined> {
  return chunkStreamWith(factoryFor(selection, opts.impl), source, opts);
}

/** A Transform: write bytes, read Chunk objects. */
export function createChunkTransform(opts: ChunkOptions = {}) {
  return chunkTransformWith(factoryFor(selection, opts.impl), opts);
}
