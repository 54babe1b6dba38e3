/**
 * put(): cuts a blob with FastCDC, hashes each chunk and the whole, and stores the chunks not
 * yet present, committing new chunk bytes in batches of about `batchBytes`.
 *
 * A blob larger than one slab (slab.ts) is hashed on two threads: this one copies the input
 * into a slab, cuts it and hands it to the store's hashing thread, which hashes the whole blob's
 * stream; both then hash the slab's chunks, while this thread already fills and cuts the next
 * slab. Two slabs alternate. Each hash is computed once, so the chunks, digests and manifest are
 * those of a one-thread put (tested).
 */
import { createHash, type Hash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { Chunker, type ChunkSink, type ImplName } from '@keymesh/cdc-native';
import { sha256 } from './chunk-checks.js';
import { BlobError } from './errors.js';
import type { HashThread } from './hasher.js';
import { MANIFEST_VERSION, type ChunkRef, type ChunkingParams, type Manifest } from './manifest.js';
import { allocSlab, claimAndHash, slabBytes, type SlabViews } from './slab.js';
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
  hasher: HashThread;
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

/** Copies the source into slabs, buffer by buffer. */
class Reader {
  ended = false;
  private readonly it: AsyncIterator<Uint8Array>;
  private rest: Uint8Array = new Uint8Array(0);
  constructor(source: BlobSource) {
    this.it = iterate(source);
  }

  /** Fills `into` from the start; returns the bytes written (fewer only at the end of input). */
  async fill(into: Uint8Array): Promise<number> {
    let n = 0;
    while (n < into.length) {
      if (this.rest.length === 0) {
        const r = await this.it.next();
        if (r.done) {
          this.ended = true;
          break;
        }
        this.rest = r.value;
        continue;
      }
      const take = Math.min(this.rest.length, into.length - n);
      into.set(this.rest.subarray(0, take), n);
      n += take;
      this.rest = this.rest.subarray(take);
    }
    return n;
  }

  async close(): Promise<void> {
    await this.it.return?.(undefined);
  }
}

/** A chunk cut from the chunker's carry-over rather than from a slab: hashed and copied at once. */
interface Carried {
  digest: Buffer;
  bytes: Buffer;
}

interface Slab {
  views: SlabViews;
  /** The slab's chunks in blob order: an index into its table, or a carried chunk. */
  items: (number | Carried)[];
  /** The hashing thread's part, when it has one. */
  done: Promise<unknown> | null;
}

let nextPutId = 1;

/** Chunks and stores a blob; returns its manifest, pinned (while its chunks are leased) unless `pin` is false. */
export async function putBlob(ctx: PutContext, source: BlobSource, pin: boolean): Promise<Manifest> {
  ctx.checkOpen();
  const id = nextPutId++;
  const chunker = new Chunker(ctx.impl ? { ...ctx.params, impl: ctx.impl } : ctx.params);
  const reader = new Reader(source);
  const slabSize = slabBytes(ctx.params.max);
  const slabs: Slab[] = [];
  const chunks: ChunkRef[] = [];
  const lease = new Set<string>();
  ctx.leases.add(lease);
  let batch: [Buffer, Buffer][] = [];
  let pending = 0;
  let size = 0;
  let threaded: boolean | undefined;
  let whole: Hash | null = null; // the blob's hash when this thread computes it

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
  const record = (digest: Buffer, bytes: Uint8Array) => {
    const hex = digest.toString('hex');
    chunks.push({ hash: hex, size: bytes.length });
    if (lease.has(hex)) return;
    lease.add(hex); // from here on gc keeps it, whether stored already or queued below
    if (ctx.stmt.has.get(digest) !== undefined) return;
    batch.push([digest, Buffer.from(bytes)]); // a copy: the slab is reused
    pending += bytes.length;
  };
  /** Hashes what is left of a slab's chunks here, waits for the thread, stores the new chunks. */
  const finish = async (s: Slab) => {
    claimAndHash(s.views);
    if (s.done) await s.done;
    const { table, digests, data } = s.views;
    for (const item of s.items) {
      if (typeof item === 'number') {
        const off = table[2 * item]!;
        record(Buffer.from(digests.subarray(32 * item, 32 * item + 32)), data.subarray(off, off + table[2 * item + 1]!));
      } else {
        record(item.digest, item.bytes);
      }
    }
    if (pending >= ctx.batchBytes) flush();
  };

  try {
    let prev: Slab | null = null;
    for (let seq = 0; ; seq++) {
      const cur: Slab = slabs[seq % 2] ??= { views: allocSlab(slabSize, ctx.params.min), items: [], done: null };
      const { views } = cur;
      cur.items = [];
      cur.done = null;
      let listed = 0;
      const filled = await reader.fill(views.data);
      ctx.checkOpen();
      size += filled;
      const sink: ChunkSink = (bytes, _offset, stable) => {
        if (stable && bytes.buffer === views.data.buffer) {
          views.table[2 * listed] = bytes.byteOffset;
          views.table[2 * listed + 1] = bytes.length;
          cur.items.push(listed++);
        } else {
          cur.items.push({ digest: sha256(bytes), bytes: Buffer.from(bytes) });
        }
      };
      if (filled > 0) chunker.pushTo(views.data.subarray(0, filled), sink);
      if (reader.ended) chunker.finishTo(sink);
      Atomics.store(views.ctl, 0, listed);
      Atomics.store(views.ctl, 1, 0);
      // A blob that fits one slab is hashed here: starting a thread would cost more.
      if (threaded === undefined) {
        threaded = !reader.ended;
        if (threaded) await ctx.hasher.ready();
      }
      if (threaded) {
        cur.done = ctx.hasher.slab(id, seq, views.mem, filled);
      } else {
        (whole ??= createHash('sha256')).update(views.data.subarray(0, filled));
      }
      if (prev) await finish(prev);
      prev = cur;
      if (reader.ended) break;
    }
    await finish(prev!);
    const hash = threaded ? await ctx.hasher.whole(id) : whole!.digest('hex');
    flush();
    const manifest: Manifest = { v: MANIFEST_VERSION, size, hash, chunks, params: { ...ctx.params } };
    if (pin) ctx.pin(manifest);
    return manifest;
  } catch (err) {
    if (threaded) ctx.hasher.abort(id);
    await reader.close().catch(() => {});
    throw err;
  } finally {
    ctx.leases.delete(lease);
  }
}
