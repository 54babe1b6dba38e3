// Streaming front ends over Chunker: an async generator and a Node Transform.
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { Chunker, type Chunk, type ChunkSink } from './chunker.js';
import type { EngineFactory } from './engine.js';
import type { ChunkParamsInput } from './params.js';

export interface ChunkOutputOptions {
  /** Attach the SHA-256 of each chunk as `hash`. */
  hash?: boolean;
  /** Attach each chunk's bytes as `data` (a view of the input where possible, else a copy). */
  data?: boolean;
}

export function sha256(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest();
}

/** A sink that turns chunk views into Chunk records, hashing while the view is valid. */
export function collectInto(chunks: Chunk[], opts: ChunkOutputOptions): ChunkSink {
  return (bytes, offset, stable) => {
    const c: Chunk = { offset, length: bytes.length };
    if (opts.hash) c.hash = sha256(bytes);
    if (opts.data) c.data = stable ? bytes : bytes.slice();
    chunks.push(c);
  };
}

/** Validates the parameters now (not on the first next()), then chunks lazily. */
export function chunkStreamWith(factory: EngineFactory,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: ChunkParamsInput & ChunkOutputOptions = {}): AsyncGenerator<Chunk, void, undefined> {
  return chunkSource(new Chunker(factory, opts), source, opts);
}

async function* chunkSource(chunker: Chunker, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: ChunkOutputOptions): AsyncGenerator<Chunk, void, undefined> {
  const pending: Chunk[] = [];
  const sink = collectInto(pending, opts);
  for await (const buf of source) {
    chunker.pushTo(buf, sink);
    yield* pending.splice(0);
  }
  chunker.finishTo(sink);
  yield* pending.splice(0);
}

/** Bytes in, Chunk objects out (readable side in object mode). */
export function chunkTransformWith(factory: EngineFactory,
  opts: ChunkParamsInput & ChunkOutputOptions = {}): Transform {
  const chunker = new Chunker(factory, opts);
  const pending: Chunk[] = [];
  const sink = collectInto(pending, opts);
  const flushTo = (t: Transform) => {
    for (const c of pending.splice(0)) t.push(c);
  };
  return new Transform({
    readableObjectMode: true,
    transform(buf: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      try {
        chunker.pushTo(buf, sink);
        flushTo(this);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb: TransformCallback) {
      try {
        chunker.finishTo(sink);
        flushTo(this);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
}
