// Chunking over a byte array (one shot) and over a sequence of buffers (streaming). Streaming
// cuts are the one-shot cuts of the concatenated input however it is split: a cut is only taken
// once `max` bytes lie ahead of it (or the input has ended), and a cut never looks further.
import type { Engine, EngineFactory } from './engine.js';
import { CdcError } from './errors.js';
import { resolveParams, type ChunkParams, type ChunkParamsInput } from './params.js';

export interface Chunk {
  /** Byte offset of the chunk in the whole input. */
  offset: number;
  length: number;
  /** SHA-256 of the chunk, when asked for. */
  hash?: Uint8Array;
  /** The chunk's bytes, when asked for. */
  data?: Uint8Array;
}

/**
 * Receives each chunk's bytes as a view. `stable` is false when the view points into the
 * chunker's carry-over buffer: then it is valid only during the call (hash or copy it there).
 */
export type ChunkSink = (bytes: Uint8Array, offset: number, stable: boolean) => void;

const OUT_SLOTS = 1024;

function checkBytes(data: unknown): asserts data is Uint8Array {
  if (!(data instanceof Uint8Array)) {
    throw new CdcError('CDC_BAD_INPUT',
      `input must be a Uint8Array (a Buffer is one), got ${data === null ? 'null' : typeof data}; ` +
      'wrap strings with Buffer.from(text) first.');
  }
}

/** Runs the engine over data[start..end), calling sink per chunk; returns where it stopped. */
function cutRun(engine: Engine, out: Uint32Array, data: Uint8Array, start: number, end: number,
  final: boolean, stable: boolean, offset: number, sink: ChunkSink): number {
  let pos = start;
  for (;;) {
    const n = engine.cuts(data, pos, end, final, out);
    for (let i = 0; i < n; i++) {
      const len = out[i]!;
      sink(data.subarray(pos, pos + len), offset + (pos - start), stable);
      pos += len;
    }
    if (n < out.length) return pos;
  }
}

export class Chunker {
  readonly params: ChunkParams;
  private readonly engine: Engine;
  private readonly out = new Uint32Array(OUT_SLOTS);
  private carry: Uint8Array | null = null; // capacity 2 * max; holds < max bytes between pushes
  private carryStart = 0;
  private carryEnd = 0;
  private offset = 0; // input offset of the next chunk
  private finished = false;

  constructor(factory: EngineFactory, params: ChunkParamsInput = {}) {
    this.params = resolveParams(params);
    this.engine = factory.create(this.params);
  }

  get impl(): 'native' | 'ts' {
    return this.engine.impl;
  }

  /** Offsets and lengths of the chunks that `data` completes. */
  push(data: Uint8Array): Chunk[] {
    const chunks: Chunk[] = [];
    this.pushTo(data, (b, offset) => chunks.push({ offset, length: b.length }));
    return chunks;
  }

  /** The last chunks, once the input has ended. */
  finish(): Chunk[] {
    const chunks: Chunk[] = [];
    this.finishTo((b, offset) => chunks.push({ offset, length: b.length }));
    return chunks;
  }

  pushTo(data: Uint8Array, sink: ChunkSink): void {
    checkBytes(data);
    this.checkOpen();
    const max = this.params.max;
    let off = 0;
    while (off < data.length) {
      if (this.carryEnd === this.carryStart) {
        // Nothing carried over: cut straight from the caller's buffer, then keep the tail.
        off = this.run(data, off, data.length, false, true, sink);
        this.append(data, off, data.length);
        return;
      }
      // Join the carried bytes with at most `max` new ones: enough for every cut that
      // starts inside the carried bytes.
      const oldEnd = this.append(data, off, Math.min(data.length, off + max));
      off += this.carryEnd - oldEnd;
      this.carryStart = this.run(this.carry!, this.carryStart, this.carryEnd, false, false, sink);
      if (this.carryStart >= oldEnd) {
        // Only copies of `data` are left over: drop them and go back to cutting in place.
        off -= this.carryEnd - this.carryStart;
        this.carryStart = this.carryEnd = 0;
      }
    }
  }

  finishTo(sink: ChunkSink): void {
    this.checkOpen();
    if (this.carry !== null) this.run(this.carry, this.carryStart, this.carryEnd, true, false, sink);
    this.carry = null;
    this.carryStart = this.carryEnd = 0;
    this.finished = true;
  }

  private run(data: Uint8Array, start: number, end: number, final: boolean, stable: boolean, sink: ChunkSink): number {
    const pos = cutRun(this.engine, this.out, data, start, end, final, stable, this.offset, sink);
    this.offset += pos - start;
    return pos;
  }

  /** Copies data[from..to) after the carried bytes; returns where the copy starts. */
  private append(data: Uint8Array, from: number, to: number): number {
    if (to <= from) return this.carryEnd;
    this.carry ??= new Uint8Array(2 * this.params.max);
    if (this.carryStart === this.carryEnd) this.carryStart = this.carryEnd = 0;
    if (this.carryEnd + (to - from) > this.carry.length) {
      this.carry.copyWithin(0, this.carryStart, this.carryEnd);
      this.carryEnd -= this.carryStart;
      this.carryStart = 0;
    }
    const at = this.carryEnd;
    this.carry.set(data.subarray(from, to), at);
    this.carryEnd += to - from;
    return at;
  }

  private checkOpen(): void {
    if (this.finished) {
      throw new CdcError('CDC_BAD_INPUT', 'this Chunker has finished; create a new Chunker for new input.');
    }
  }
}

/** One-shot chunking of a whole array; the input is read in place. */
export function chunkAll(factory: EngineFactory, data: Uint8Array, params: ChunkParamsInput, sink: ChunkSink): void {
  checkBytes(data);
  const engine = factory.create(resolveParams(params));
  cutRun(engine, new Uint32Array(OUT_SLOTS), data, 0, data.length, true, true, 0, sink);
}
