/**
 * The group-commit thread (see group-commit.ts): waits until the ledger asks for its commits up
 * to some count to be made durable, fsyncs the WAL and reports the count it covered; every
 * CHECKPOINT_COMMITS commits it also checkpoints the WAL into the database, through a
 * connection of its own (a PASSIVE checkpoint runs beside the ledger's writes).
 */
import { workerData } from 'node:worker_threads';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { CHECKPOINTING, CHECKPOINTS, DONE, FAILED, FSYNCING, FSYNCS, READY, REQ, RUNNING, STATE, STOPPED } from './group-commit.js';

const { dbPath, shared, checkpointCommits } = workerData as { dbPath: string; shared: SharedArrayBuffer; checkpointCommits: number };
const s = new Int32Array(shared);
const MOD = 0x7fffffff;

let fd: number | undefined;
let db: Database.Database | undefined;
try {
  fd = openSync(`${dbPath}-wal`, 'r');
} catch {
  Atomics.store(s, STATE, FAILED); // the ledger fsyncs on its own thread instead
}
if (fd !== undefined) {
  try {
    db = new Database(dbPath, { fileMustExist: true });
  } catch {
    db = undefined; // the ledger's own connection keeps checkpointing
  }
  Atomics.store(s, READY, db ? CHECKPOINTING : FSYNCING);
  let covered = Atomics.load(s, DONE);
  let checkpointed = covered;
  while (Atomics.load(s, STATE) === RUNNING) {
    Atomics.wait(s, REQ, covered);
    const target = Atomics.load(s, REQ);
    if (Atomics.load(s, STATE) !== RUNNING || target === covered) continue;
    try {
      fsyncSync(fd);
      Atomics.store(s, DONE, target);
      Atomics.add(s, FSYNCS, 1);
    } catch {
      // Not reported as done: the ledger's next flush() fsyncs on its own thread and throws.
    }
    covered = target;
    if (db && ((target - checkpointed) & MOD) >= checkpointCommits) {
      try {
        db.pragma('wal_checkpoint(PASSIVE)');
        Atomics.add(s, CHECKPOINTS, 1);
      } catch {
        // busy (the ledger's own net checkpoint): the next one catches up
      }
      checkpointed = target;
    }
  }
  db?.close();
  closeSync(fd);
  if (Atomics.load(s, STATE) !== FAILED) {
    Atomics.store(s, STATE, STOPPED);
    Atomics.notify(s, STATE);
  }
}
