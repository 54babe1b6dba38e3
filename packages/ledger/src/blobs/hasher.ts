/**
 * The hashing thread a BlobStore shares among its put() calls: started at the first blob larger
 * than one slab, unref'd (an idle store keeps no process alive), ended by close().
 */
import { Worker } from 'node:worker_threads';
import { BlobError } from './errors.js';
import type { HashReply, HashRequest, SlabMemory } from './slab.js';

interface Waiter {
  resolve(value: string | undefined): void;
  reject(err: Error): void;
}

export class HashThread {
  private worker: Worker | null = null;
  private started: Promise<Worker> | null = null;
  private failure: Error | null = null;
  private readonly waiting = new Map<string, Waiter>();

  /** The running thread, started on first use. */
  async ready(): Promise<void> {
    if (this.failure) throw this.failure;
    this.started ??= new Promise<Worker>((resolve, reject) => {
      const w = new Worker(new URL('./hash-worker.js', import.meta.url));
      w.unref();
      w.once('online', () => resolve(w));
      w.on('message', (m: HashReply) => this.settle(m.op === 'whole' ? `w${m.id}` : `s${m.id}:${m.seq}`, m.op === 'whole' ? m.hex : undefined));
      w.once('error', (err) => {
        this.fail(new BlobError('BLOB_HASHER_FAILED',
          `the hashing thread of put() failed (${err.message}); put() the blob again, and report this if it repeats.`));
        reject(this.failure!);
      });
      w.once('exit', (code) => {
        this.fail(new BlobError('BLOB_HASHER_FAILED',
          `the hashing thread of put() ended (exit code ${code}); put() the blob again, and report this if it repeats.`));
        reject(this.failure!);
      });
      this.worker = w;
    });
    await this.started;
  }

  /**
   * Hands slab `seq` of put `id` to the thread; resolves when it has hashed it (the whole-blob
   * stream and the chunks it claimed). Waits registered here, before any message can arrive.
   */
  slab(id: number, seq: number, mem: SlabMemory, filled: number): Promise<unknown> {
    const p = this.wait(`s${id}:${seq}`);
    this.send({ op: 'slab', id, seq, mem, filled });
    return p;
  }

  /** The SHA-256 (hex) of every slab sent for put `id`; the thread then forgets it. */
  whole(id: number): Promise<string> {
    const p = this.wait(`w${id}`);
    this.send({ op: 'end', id });
    return p as Promise<string>;
  }

  /** Tells the thread to forget put `id` (it failed). */
  abort(id: number): void {
    if (!this.failure && this.worker) this.worker.postMessage({ op: 'abort', id } satisfies HashRequest);
  }

  private send(m: HashRequest): void {
    if (this.failure) throw this.failure;
    this.worker!.postMessage(m);
  }

  /** Ends the thread; waiting put() calls fail with `reason`. */
  close(reason: Error): void {
    this.fail(reason);
    void this.worker?.terminate();
    this.worker = null;
  }

  private wait(key: string): Promise<string | undefined> {
    const p = this.failure ? Promise.reject(this.failure)
      : new Promise<string | undefined>((resolve, reject) => this.waiting.set(key, { resolve, reject }));
    p.catch(() => {}); // a put() that failed before awaiting this must not leave it unhandled
    return p;
  }

  private settle(key: string, value: string | undefined): void {
    const w = this.waiting.get(key);
    this.waiting.delete(key);
    w?.resolve(value);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.values()) w.reject(this.failure);
    this.waiting.clear();
  }
}
