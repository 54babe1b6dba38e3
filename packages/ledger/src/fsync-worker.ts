/**
 * The group-commit thread (see group-commit.ts): waits until the ledger asks for its commits up
 * to some count to be made durable, fsyncs the WAL and reports the count it covered. When no
 * commit has come for `checkpointIdleMs`, it checkpoints the WAL into the database through a
 * connection of its own.
 */
import { workerData } from 'node:worker_threads';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { CHECKPOINTS, DONE, FAILED, FSYNCS, READY, REQ, RUNNING, STATE, STOPPED, type FsyncWorkerData } from './fsync-shared.js';

const { dbPath, shared, checkpointIdleMs } = workerData as FsyncWorkerData;
const s = new Int32Array(shared);

let fd: number | undefined;
try {
  fd = openSync(`${dbPath}-wal`, 'r');
} catch {
  Atomics.store(s, STATE, FAILED); // the ledger fsyncs on its own thread instead
}
if (fd !== undefined) {
  let db: Database.Database | undefined;
  try {
    db = new Database(dbPath, { fileMustExist: true });
  } catch {
    db = undefined; // SQLite's own checkpoints on the ledger's connection still bound the WAL
  }
  Atomics.store(s, READY, 1);
  let covered = Atomics.load(s, DONE);
  let checkpointed = covered;
  while (Atomics.load(s, STATE) === RUNNING) {
    const waited = Atomics.wait(s, REQ, covered, db && checkpointed !== covered ? checkpointIdleMs : Infinity);
    if (Atomics.load(s, STATE) !== RUNNING) break;
    if (waited === 'timed-out') {
      try {
        db!.pragma('wal_checkpoint(PASSIVE)');
        Atomics.add(s, CHECKPOINTS, 1);
      } catch {
        // busy (SQLite's own checkpoint on the ledger's connection): that one does the work
      }
      checkpointed = covered;
      continue;
    }
    const target = Atomics.load(s, REQ);
    if (target === covered) continue;
    try {
      fsyncSync(fd);
      Atomics.store(s, DONE, target);
      Atomics.add(s, FSYNCS, 1);
    } catch {
      // Not reported as done: the ledger's next flush() fsyncs on its own thread and throws.
    }
    covered = target;
  }
  db?.close();
  closeSync(fd);
  Atomics.store(s, STATE, STOPPED);
  Atomics.notify(s, STATE);
}
