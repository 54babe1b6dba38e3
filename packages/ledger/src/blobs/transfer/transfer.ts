/**
 * One fetch of one blob from one source (fetcher.ts runs it): the manifest phase, then the
 * chunk phase, each a set of pieces asked in a window and received in parts (assembly.ts).
 */
import { uniqueChunks, type ChunkRef, type Manifest } from '@keymesh/protocol';
import { Assembly } from './assembly.js';
import type { Part } from './codec.js';
import { TransferError } from './errors.js';
import type { FetcherContext } from './fetcher.js';
import { PinnedManifests, manifestFromBytes } from './manifest-bytes.js';

export interface FetchProgress {
  id: string;
  phase: 'manifest' | 'chunks' | 'verify' | 'done';
  /** Distinct chunks of the blob held now, of all. */
  chunksHeld: number;
  chunksTotal: number;
  /** Bytes fetched so far, of the bytes the store lacked when the chunk phase began. */
  bytesFetched: number;
  bytesToFetch: number;
}

export interface FetchOptions {
  onProgress?: (p: FetchProgress) => void;
}

export interface FetchResult {
  id: string;
  manifest: Manifest;
  /** Chunks and their bytes fetched by this call (the others were held already). */
  fetchedChunks: number;
  fetchedBytes: number;
  /** Distinct chunks of the blob that were held already. */
  heldChunks: number;
  /** Whether the manifest itself came over the bus (false: it was pinned here already). */
  manifestFetched: boolean;
}

const MANIFEST_PHASE = Symbol('manifest');

export class Transfer {
  private readonly pending = new Map<string, Assembly>();
  private pendingBytes = 0;
  private queue: ChunkRef[] = [];
  /** Whether the one piece asked is the manifest (its size unknown until its first part). */
  private manifestPhase = false;
  private phase: FetchProgress['phase'] = 'manifest';
  private lastProgress = Date.now();
  private stalls = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private settle: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  private failure: unknown = null;
  private manifestBytes: Uint8Array | null = null;
  private progress: FetchProgress;
  private fetchedChunks = 0;

  constructor(private readonly ctx: FetcherContext, readonly id: string, readonly source: string, private readonly opts: FetchOptions) {
    this.progress = { id, phase: 'manifest', chunksHeld: 0, chunksTotal: 0, bytesFetched: 0, bytesToFetch: 0 };
  }

  wants(hash: string): boolean {
    return this.pending.has(hash);
  }

  async run(): Promise<FetchResult> {
    const store = this.ctx.store;
    try {
      let manifest = new PinnedManifests(store).get(this.id);
      const manifestFetched = manifest === undefined;
      if (manifest === undefined) {
        await this.collect([{ hash: this.id, size: MANIFEST_PHASE }]);
        const m = manifestFromBytes(this.id, this.manifestBytes!);
        if (!m.ok) {
          throw new TransferError('TRANSFER_BAD_MANIFEST', `the ${this.manifestBytes!.byteLength} bytes of ${this.id.slice(0, 16)}… from ${this.source.slice(0, 12)}… hash right but are not a manifest (${m.reason}); the bundle.publish names something else: publish the bundle again.`, { id: this.id });
        }
        manifest = m.manifest;
        this.manifestBytes = null;
      }
      store.pin(manifest); // before the chunks: gc keeps a partial transfer
      const all = uniqueChunks(manifest);
      const missing = store.missing(manifest);
      this.progress = { ...this.progress, phase: 'chunks', chunksTotal: all.length, chunksHeld: all.length - missing.length, bytesToFetch: missing.reduce((s, c) => s + c.size, 0) };
      this.report('chunks');
      await this.collect(missing);
      this.report('verify');
      for await (const _ of store.get(manifest)) { /* get() re-hashes every chunk and the whole */ }
      this.report('done');
      return { id: this.id, manifest, fetchedChunks: this.fetchedChunks, fetchedBytes: this.progress.bytesFetched, heldChunks: all.length - missing.length, manifestFetched };
    } finally {
      this.stopTimer();
      this.pending.clear();
      this.queue = [];
    }
  }

  /** Ends the fetch with `err` (a stop, a failure). */
  fail(err: unknown): void {
    if (this.failure !== null) return;
    this.failure = err;
    this.stopTimer();
    this.settle?.reject(err);
  }

  /** Asks for `pieces` in windows; resolves when every one is received. */
  private collect(pieces: Array<{ hash: string; size: number | typeof MANIFEST_PHASE }>): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (pieces.length === 0) return Promise.resolve();
    this.queue = pieces.map((p) => ({ hash: p.hash, size: p.size === MANIFEST_PHASE ? 0 : p.size }));
    const manifest = pieces.length === 1 && pieces[0]!.size === MANIFEST_PHASE;
    this.manifestPhase = manifest;
    const done = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    this.lastProgress = Date.now();
    this.stalls = 0;
    this.startTimer();
    this.refill();
    return done;
  }

  private refill(): void {
    // Ask again only once half the window is free, so a request names many chunks (the
    // source queues few requests per requester) rather than one per chunk received.
    const low = this.pending.size <= this.ctx.windowChunks / 2 && this.pendingBytes <= this.ctx.windowBytes / 2;
    const asked: string[] = [];
    while (low && this.queue.length > 0 && this.pending.size < this.ctx.windowChunks && (this.pending.size === 0 || this.pendingBytes < this.ctx.windowBytes)) {
      const c = this.queue.shift()!;
      const a = this.manifestPhase ? new Assembly(c.hash, undefined, this.ctx.maxManifestBytes) : new Assembly(c.hash, c.size, c.size);
      this.pending.set(c.hash, a);
      this.pendingBytes += c.size;
      asked.push(c.hash);
    }
    if (asked.length > 0) this.ctx.ask(this.source, asked);
    if (this.pending.size === 0 && this.queue.length === 0) {
      this.stopTimer();
      const s = this.settle;
      this.settle = null;
      s?.resolve();
    }
  }

  /** A part from the source of a piece this transfer wants. */
  take(part: Part): void {
    if (this.failure !== null) return;
    const a = this.pending.get(part.hash)!;
    const out = a.add(part);
    if (out.kind === 'refused') return this.ctx.refused(this.source, out.why, out.reason);
    if (out.kind === 'partial') {
      if (out.fresh) this.lastProgress = Date.now();
      return;
    }
    if (out.kind === 'mismatch') {
      this.ctx.refused(this.source, 'mismatch', `the bytes sent for ${part.hash.slice(0, 16)}… hash to ${out.actual.slice(0, 16)}…`);
      if (++a.attempts > this.ctx.retries + 1) {
        return this.fail(new TransferError('TRANSFER_CORRUPT', `${this.source.slice(0, 12)}… sent bytes for ${part.hash.slice(0, 16)}… that hash to something else ${a.attempts - 1} times; nothing of them was stored. Check that node's store (keymesh blob verify) or fetch from another node.`, { hash: part.hash, source: this.source }));
      }
      this.ctx.stats.reasked++;
      this.ctx.ask(this.source, [part.hash]);
      return;
    }
    this.lastProgress = Date.now();
    this.pending.delete(part.hash);
    this.pendingBytes -= a.size ?? 0;
    if (this.manifestPhase) {
      this.manifestBytes = out.bytes;
    } else {
      try {
        this.ctx.store.putChunk(part.hash, out.bytes);
      } catch (err) {
        return this.fail(err); // the store closed under us
      }
      this.fetchedChunks++;
      this.progress.chunksHeld++;
      this.progress.bytesFetched += out.bytes.byteLength;
      this.report('chunks');
    }
    this.refill();
  }

  private report(phase: FetchProgress['phase']): void {
    this.phase = phase;
    this.progress.phase = phase;
    this.opts.onProgress?.({ ...this.progress });
  }

  private startTimer(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), Math.max(10, Math.floor(this.ctx.timeoutMs / 4)));
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    if (this.pending.size === 0 || Date.now() - this.lastProgress < this.ctx.timeoutMs) return;
    if (++this.stalls > this.ctx.retries) {
      const what = this.manifestPhase ? 'the manifest' : `${this.pending.size + this.queue.length} chunks`;
      return this.fail(new TransferError('TRANSFER_TIMEOUT', `${this.source.slice(0, 12)}… sent nothing for ${this.ctx.timeoutMs} ms, ${this.stalls} times, with ${what} of ${this.id.slice(0, 16)}… outstanding (in phase ${this.phase}); check that it is online and holds the bundle, then fetch again (chunks stored are kept).`, { id: this.id, source: this.source }));
    }
    this.lastProgress = Date.now();
    this.ctx.stats.reasked += this.pending.size;
    this.ctx.ask(this.source, [...this.pending.keys()]);
  }
}
