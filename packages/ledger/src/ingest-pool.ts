/**
 * Ingest on both cores: a worker parses, validates and hashes the next batch of lines while
 * this thread verifies signatures and chains and stores the current one. The checks and
 * reasons are the same as `Ledger.ingest` (both use checkLine); the result is the same too.
 * For the coordinator's bulk intake and `keymesh-ledger import`-style loads.
 */
import { Worker } from 'node:worker_threads';
import type { CheckReply, CheckRequest } from './check-messages.js';
import type { CheckedLine } from './check-line.js';
import { addIngestResult, emptyIngestResult, type IngestOptions, type IngestResult, type Ledger } from './ledger.js';

export type { CheckReply, CheckRequest } from './check-messages.js';

export interface IngestPoolOptions extends IngestOptions {
  /** Lines per batch (one transaction each). */
  batch?: number;
}

export class IngestPool {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (r: CheckReply) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  constructor(readonly ledger: Ledger) {
    this.worker = new Worker(new URL('./check-worker.js', import.meta.url));
    this.worker.on('message', (r: CheckReply) => {
      this.waiting.get(r.id)?.resolve(r);
      this.waiting.delete(r.id);
      if (this.waiting.size === 0) this.worker.unref();
    });
    this.worker.on('error', (err) => {
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    });
    this.worker.unref(); // an idle pool does not keep the process alive; a busy one does
  }

  private check(lines: string[]): Promise<CheckReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ id, lines } satisfies CheckRequest);
    });
  }

  /** Resolves once the worker has loaded and answered (a pool is made once and kept). */
  async ready(): Promise<void> {
    await this.check([]);
  }

  /**
   * Ingests `lines` in batches: the worker checks up to two batches ahead while this thread
   * stores the current one.
   */
  async ingest(lines: readonly string[], opts: IngestPoolOptions = {}): Promise<IngestResult> {
    const size = Math.max(1, opts.batch ?? 5000);
    const total = emptyIngestResult();
    const batches: string[][] = [];
    for (let i = 0; i < lines.length; i += size) batches.push(lines.slice(i, i + size));
    const inFlight = batches.slice(0, 2).map((batch) => this.checkLines(batch));
    for (let b = 0; b < batches.length; b++) {
      const checks = await inFlight[b]!;
      if (b + 2 < batches.length) inFlight.push(this.checkLines(batches[b + 2]!));
      addIngestResult(total, this.ledger.ingestChecked(batches[b]!, checks, opts));
    }
    return total;
  }

  /** The worker's checks of `lines`, for `Ledger.ingestChecked` (what sync's intake stores with). */
  async checkLines(lines: string[]): Promise<CheckedLine[]> {
    const reply = await this.check(lines);
    const checks: CheckedLine[] = lines.map((_, i) => reply.hashes.subarray(i * 32, i * 32 + 32));
    for (const i of reply.unknown) checks[i] = { hash: checks[i] as Uint8Array, known: false };
    for (const e of reply.errors) checks[e.i] = e;
    return checks;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
