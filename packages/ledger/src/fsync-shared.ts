/**
 * What GroupCommit (group-commit.ts) and its fsync worker (fsync-worker.ts) share: the worker's
 * start data, and the slots of the Int32Array both sides read and write with Atomics.
 */

export interface FsyncWorkerData {
  /** The database file; its WAL is `${dbPath}-wal`. */
  dbPath: string;
  /** SLOTS Int32 slots. */
  shared: SharedArrayBuffer;
  /** How long without commits before the worker checkpoints. */
  checkpointIdleMs: number;
}

/** Slots of the shared Int32Array. REQ and DONE hold commit counts modulo 2^31 (MOD). */
export const REQ = 0;
export const DONE = 1;
export const FSYNCS = 2;
export const STATE = 3;
export const READY = 4;
export const CHECKPOINTS = 5;
export const SLOTS = 6;
export const MOD = 0x7fffffff;

/** STATE values. */
export const RUNNING = 0;
export const STOPPING = 1;
export const FAILED = 2;
export const STOPPED = 3;
