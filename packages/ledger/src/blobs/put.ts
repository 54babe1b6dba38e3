/**
 * put(): cuts a blob with FastCDC, hashes each chunk and the whole, and stores the chunks not
 * yet present, committing new chunk bytes in batches of about `batchBytes`.
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { Chunker, type ChunkSink, type ImplName } from '@keymesh/cdc-native';
import { sha256 } from './chunk-checks.js';
import { BlobError } from './errors.js';
import { MANIFEST_VERSION, type ChunkRef, type ChunkingParams, type Manifest } from './manifest.js';
import type { BlobStatements } from './tables.js';

/** What put() reads: bytes, or a (async) iterable of byte buffers such as a Node Readable. */
export type BlobSource = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/** What put() needs of the store. */
export interface PutContext {
  db: Database.Database;
  stmt: BlobStatements;
  params: ChunkingParams;
  impl: ImplName | undefined;
  batchBytes: number;
  /** Chunks of put() calls in progress: gc keeps them. */
  leases: Set<Set<string>>;
  checkOpen(): void;
  pin(manifest: Manifest): string;
}

export async function* iterate(source: BlobSource): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield source;
    return;
  }
  if (source === null || typeof source !== 'object' ||
    !(Symbol.asyncIterator in source || Symbol.iterator in source)) {
    throw new BlobError('BLOB_BAD_INPUT',
      `put() takes a Uint8Array or an (async) iterable of them such as a Readable, got ${source === null ? 'null' : typeof source}.`);
  }
  for await (const buf of source as AsyncIterable<unknown>) {
    if (!(buf instanceof Uint8Array)) {
      throw new BlobError('BLOB_BAD_INPUT',
        `the source yielded a ${typeof buf}, not bytes; do not set an encoding on the stream, or wrap text with Buffer.from(text).`);
    }
    yield buf;
  }
}

/** Chunks and stores a blob; returns its manifest, pinned (while its chunks are leased) unless `pin` is false. */
export async function putBlob(ctx: PutContext, source: BlobSource, pin: boolean): Promise<Manifest> {
  ctx.checkOpen();
  const chunker = new Chunker(ctx.impl ? { ...ctx.params, impl: ctx.impl } : ctx.params);
  const whole = createHash('sha256');
  const chunks: ChunkRef[] = [];
  const lease = new Set<string>();
  ctx.leases.add(lease);
  let batch: [Buffer, Buffer][] = [];
  let pending = 0;
  let size = 0;
  const flush = () => {
    if (batch.length === 0) return;
    ctx.checkOpen();
    const items = batch;
    batch = [];
    pending = 0;
    ctx.db.transaction(() => {
      for (const [h, b] of items) ctx.stmt.insert.run(h, b.length, b);
    })();
  };
  const sink: ChunkSink = (bytes) => {
    const digest = sha256(bytes);
    const hex = digest.toString('hex');
    chunks.push({ hash: hex, size: bytes.length });
    if (lease.has(hex)) return;
    lease.add(hex); // from here on gc keeps it, whether stored already or queued below
    if (ctx.stmt.has.get(digest) !== undefined) return;
    // A copy: the view may point into the chunker's or the caller's reused buffer.
    batch.push([digest, Buffer.from(bytes)]);
    pending += bytes.length;
  };
  try {
    for await (const buf of iterate(source)) {
      whole.update(buf);
      size += buf.length;
      chunker.pushTo(buf, sink);
      if (pending >= ctx.batchBytes) flush();
    }
    chunker.finishTo(sink);
    flush();
    const manifest: Manifest = {
      v: MANIFEST_VERSION, size, hash: whole.digest('hex'), chunks, params: { ...ctx.params },
    };
    if (pin) ctx.pin(manifest);
    return manifest;
  } finally {
    ctx.leases.delete(lease);
  }
}
