// The group-commit thread (group-commit.ts): fsyncs on a plain file standing in for a WAL, idle
// checkpoints on a real WAL database. Whole-ledger behaviour is in durability.test.ts; kill -9 in crash.test.ts.
import { describe, it, expect } from '@jest/globals';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { GroupCommit } from './group-commit.js';
import { FAILED, FSYNCS, STATE, STOPPED } from './fsync-shared.js';
import { tempDir } from '@keymesh/testkit/temp-ledger';

/** A database path whose `-wal` file exists (GroupCommit only fsyncs that file). */
function wal(): string {
  const path = join(tempDir(), 'x.db');
  writeFileSync(`${path}-wal`, 'frames');
  return path;
}
/** Starts the thread (at the first commit) and waits until it runs. */
async function threaded(gc: GroupCommit): Promise<void> {
  gc.committed();
  for (let i = 0; i < 400 && !gc.threaded; i++) await sleep(5);
  expect(gc.threaded).toBe(true);
}
const inside = (gc: GroupCommit) => gc as unknown as { shared: Int32Array; callerFsyncs: number; worker: Worker | undefined };

describe('GroupCommit', () => {
  it('the worker fsyncs while the caller never yields, and the caller never waits for the disk', async () => {
    const gc = new GroupCommit(wal(), 2);
    await threaded(gc);
    const before = inside(gc).callerFsyncs; // the first commit may have been fsynced here
    const end = performance.now() + 200;
    while (performance.now() < end) gc.committed();
    const { commits, fsyncs } = gc.stats;
    expect(Atomics.load(inside(gc).shared, FSYNCS)).toBe(fsyncs - before);
    expect(fsyncs - before).toBeGreaterThanOrEqual(3);
    expect(fsyncs).toBeLessThan(commits / 10);
    expect(inside(gc).callerFsyncs).toBe(before);
    await sleep(50); // the last commits: asked for by the timer
    expect(gc.unsynced).toBe(0);
    expect(inside(gc).callerFsyncs).toBe(before);
    const exited = once(inside(gc).worker!, 'exit');
    gc.close();
    expect(Atomics.load(inside(gc).shared, STATE)).toBe(STOPPED); // close() waited for the thread
    await exited;
  });

  it('once commits stop, the worker checkpoints the WAL into the database', async () => {
    const path = join(tempDir(), 'real.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 0'); // only the worker checkpoints here
    db.exec('CREATE TABLE t (x TEXT)');
    const gc = new GroupCommit(path, 0, 100);
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    const commit = (i: number) => (insert.run('x'.repeat(3000) + i), gc.committed());
    commit(0);
    await threaded(gc);
    for (let i = 1; i <= 300; i++) commit(i);
    await sleep(50); // shorter than the idle time: no checkpoint yet
    expect(gc.stats.checkpoints).toBe(0);
    expect(statSync(path).size).toBeLessThan(100_000);
    for (let i = 0; i < 200 && gc.stats.checkpoints === 0; i++) await sleep(10);
    expect(gc.stats.checkpoints).toBe(1);
    expect(statSync(path).size).toBeGreaterThan(300 * 3000); // the rows are in the database file
    await sleep(300);
    expect(gc.stats.checkpoints).toBe(1); // idle with nothing new: no second checkpoint
    commit(301);
    for (let i = 0; i < 200 && gc.stats.checkpoints === 1; i++) await sleep(10);
    expect(gc.stats.checkpoints).toBe(2);
    gc.close();
    expect(Atomics.load(inside(gc).shared, STATE)).toBe(STOPPED); // close() waited for the thread
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 302 });
    db.close();
  });

  it('flush() covers every commit at once, on the caller thread', () => {
    const gc = new GroupCommit(wal(), 60_000);
    for (let i = 0; i < 5; i++) gc.committed();
    expect(gc.stats).toEqual({ commits: 5, fsyncs: 0, unsynced: 5, checkpoints: 0 });
    gc.flush();
    gc.flush(); // nothing new: no second fsync
    expect(gc.stats).toEqual({ commits: 5, fsyncs: 1, unsynced: 0, checkpoints: 0 });
    gc.close();
  });

  it('until the thread is up, or if it fails, fsyncs on the caller thread instead of not at all', async () => {
    const gc = new GroupCommit(wal(), 0);
    gc.committed(); // starts the thread, which takes a while: the caller fsyncs meanwhile
    expect(gc.threaded).toBe(false);
    expect(gc.stats).toEqual({ commits: 1, fsyncs: 1, unsynced: 0, checkpoints: 0 });
    await threaded(gc);
    Atomics.store(inside(gc).shared, STATE, FAILED);
    gc.committed();
    gc.committed();
    expect(gc.stats.unsynced).toBe(0);
    expect(inside(gc).callerFsyncs).toBe(4);
    gc.close();
  });

  it('a failing fsync is an error from flush(), never from the commit that already happened', () => {
    const gc = new GroupCommit(join(tempDir(), 'gone.db'), 0);
    gc.committed(); // due at once: the fsync here fails, quietly
    gc.committed();
    expect(gc.unsynced).toBe(2);
    expect(() => gc.flush()).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(gc.unsynced).toBe(2);
  });
});
