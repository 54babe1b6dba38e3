import type { ChunkParams } from './params.js';

export type ImplName = 'native' | 'ts';

/** One parameter set bound to one implementation; both implementations give identical cuts. */
export interface Engine {
  readonly impl: ImplName;
  readonly params: ChunkParams;
  /**
   * Writes the lengths of consecutive chunks of data[start..end) to `out` and returns how many.
   * Stops when `out` is full, at `end`, or, unless `final`, while fewer than `max` bytes remain
   * (more input could still move that cut). Reads `data` in place.
   */
  cuts(data: Uint8Array, start: number, end: number, final: boolean, out: Uint32Array): number;
}

export interface EngineFactory {
  readonly impl: ImplName;
  create(params: ChunkParams): Engine;
}
