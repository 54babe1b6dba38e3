/**
 * Group commit for a WAL-mode SQLite file (the rule: `Durability` in types.ts). Commits are
 * made with `synchronous = NORMAL`, which writes them to the WAL without an fsync; one fsync of
 * the WAL file then makes every earlier commit durable (fsync covers the file's data, whichever
 * descriptor wrote it).
 *
 * A worker thread (fsync-worker.ts) runs the fsync that bounds how long a commit waits, so an
 * append never waits for the disk; `flush()` fsyncs on the caller's thread, for reads that
 * publish entries. The threads share a few integers instead of posting messages, so a caller
 * that never yields to the event loop (a busy append loop) still gets its fsyncs on time.
 *
 * Checkpoints (copying the WAL back into the database, with fsyncs of their own) cost appends
 * up to a third of their time here when SQLite ran one every 1,000 WAL pages on the caller's
 * thread (bench/RESULTS.md, ledger). So the worker also checkpoints, through a connection of its
 * own, once the ledger has been idle for `checkpointIdleMs`: with no writer beside it the
 * checkpoint completes and the next commit starts the WAL again from its beginning. Under a
 * sustained load that never pauses, SQLite's own checkpoint on the caller's connection, every
 * WAL_AUTOCHECKPOINT_PAGES, is what bounds the WAL. A checkpoint that runs beside a busy writer
 * cannot let the WAL restart, which is why the worker does not checkpoint while commits arrive.
 */
import { Worker } from 'node:worker_threads';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

import { CHECKPOINTS, DONE, FAILED, FSYNCS, MOD, READY, REQ, RUNNING, SLOTS, STATE, STOPPING, type FsyncWorkerData } from './fsync-shared.js';

/**
 * `wal_autocheckpoint` for ledger connections: ~40 MB of WAL. SQLite's default of 1,000 pages
 * (~200 access events) made single appends ~30 % slower here; 10,000 and 30,000 measured alike.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

export class GroupCommit {
  private commits = 0;
  /** Commits made durable by flush() on the caller's thread. */
  private flushed = 0;
  /** Commits the worker has been asked to cover, and when the first commit after them came. */
  private requested = 0;
  private firstUnrequestedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly shared = new Int32Array(new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT));
  private worker: Worker | undefined;
  private fd: number | undefined;
  private callerFsyncs = 0;

  /**
   * `dbPath`: the database file (its WAL is `dbPath-wal`); `windowMs`: the longest a commit
   * waits for its fsync to start; `checkpointIdleMs`: how long without commits before the
   * worker checkpoints.
   */
  constructor(private readonly dbPath: string, private readonly windowMs: number, private readonly checkpointIdleMs = 1000) {}

  /**
   * After each commit: asks for an fsync once the oldest commit not yet asked for is due. Never
   * throws (the commit has happened): a failing disk is reported by the next flush(), which
   * runs before anything is published.
   */
  committed(): void {
    this.commits++;
    this.startWorker();
    const t = performance.now();
    if (this.commits - this.requested === 1) this.firstUnrequestedAt = t;
    const wait = this.firstUnrequestedAt + this.windowMs - t;
    if (wait <= 0) this.request();
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.request();
      }, wait);
      this.timer.unref();
    }
  }

  /** fsyncs the WAL now, on this thread, unless every commit is already durable. */
  flush(): void {
    if (this.unsynced === 0) return;
    this.clearTimer();
    fsyncSync(this.callerFd());
    this.flushed = this.commits;
    this.requested = this.commits;
    this.callerFsyncs++;
  }

  get unsynced(): number {
    const byWorker = this.commits - ((this.commits - Atomics.load(this.shared, DONE)) & MOD);
    return this.commits - Math.max(this.flushed, byWorker);
  }

  /** Whether fsyncs run on the worker thread (it has started and not failed). */
  get threaded(): boolean {
    return Atomics.load(this.shared, READY) !== 0 && Atomics.load(this.shared, STATE) === RUNNING;
  }

  /** `checkpoints`: those the worker ran when the ledger was idle. */
  get stats(): { commits: number; fsyncs: number; unsynced: number; checkpoints: number } {
    return { commits: this.commits, fsyncs: this.callerFsyncs + Atomics.load(this.shared, FSYNCS), unsynced: this.unsynced, checkpoints: Atomics.load(this.shared, CHECKPOINTS) };
  }

  /**
   * fsyncs what is pending and stops the worker, waiting (at most a few seconds) until it has
   * closed its connection and descriptor: the caller closes the database next.
   */
  close(): void {
    this.flush();
    this.clearTimer();
    if (this.worker && Atomics.compareExchange(this.shared, STATE, RUNNING, STOPPING) === RUNNING) {
      Atomics.notify(this.shared, REQ);
      Atomics.wait(this.shared, STATE, STOPPING, 5000);
    }
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private request(): void {
    this.clearTimer();
    if (this.commits === this.requested) return;
    if (!this.threaded) {
      // Until the thread is up (~0.1 s after the first commit), or if it failed: fsync here. A
      // failure leaves the commits pending for the next flush(), which retries and throws.
      try { this.flush(); } catch { /* see above */ }
      return;
    }
    this.requested = this.commits;
    Atomics.store(this.shared, REQ, this.commits & MOD);
    Atomics.notify(this.shared, REQ);
  }

  private startWorker(): void {
    if (this.worker || Atomics.load(this.shared, STATE) !== RUNNING) return;
    try {
      this.callerFd(); // the directory entry of a new WAL is made durable first
    } catch {
      Atomics.store(this.shared, STATE, FAILED); // flush() will retry, and throw
      return;
    }
    this.worker = new Worker(new URL('./fsync-worker.js', import.meta.url), { workerData: { dbPath: this.dbPath, shared: this.shared.buffer as SharedArrayBuffer, checkpointIdleMs: this.checkpointIdleMs } satisfies FsyncWorkerData });
    this.worker.on('error', () => Atomics.store(this.shared, STATE, FAILED));
    this.worker.unref();
  }

  /**
   * The caller's own descriptor on the WAL, opened once. A new WAL file's name is durable only
   * once its directory is fsynced (SQLite does that at its own first sync of the file, which
   * group commit may never reach before a checkpoint), so that is done here, once.
   */
  private callerFd(): number {
    if (this.fd === undefined) {
      const dir = openSync(dirname(this.dbPath), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
      this.fd = openSync(`${this.dbPath}-wal`, 'r');
    }
    return this.fd;
  }

  private clearTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
