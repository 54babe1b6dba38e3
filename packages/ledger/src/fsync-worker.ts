/**
 * The group-commit thread (see group-commit.ts): waits until the ledger asks for its commits up
 * to some count to be made durable, fsyncs the WAL and reports the count it covered.
 */
import { workerData } from 'node:worker_threads';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { DONE, FAILED, FSYNCS, READY, REQ, RUNNING, STATE, STOPPED } from './group-commit.js';

const { walPath, shared } = workerData as { walPath: string; shared: SharedArrayBuffer };
const s = new Int32Array(shared);

let fd: number | undefined;
try {
  fd = openSync(walPath, 'r');
} catch {
  Atomics.store(s, STATE, FAILED); // the ledger fsyncs on its own thread instead
}
if (fd !== undefined) {
  Atomics.store(s, READY, 1);
  let covered = Atomics.load(s, DONE);
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
  }
  closeSync(fd);
  Atomics.store(s, STATE, STOPPED);
  Atomics.notify(s, STATE);
}
