// Crash safety (DESIGN §10): a child appends in a loop and is killed with SIGKILL at random
// moments, round after round on the same file; every entry whose append had returned must be
// there afterwards, and every feed must verify. A file cut short while closed is either
// recovered consistently or refused with an error naming it, never opened half-broken.
import { describe, it, expect } from '@jest/globals';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { encodeEntry, entryHash } from '@keymesh/protocol';
import { TestSite, memberBody, testKey, testCard } from '@keymesh/testkit/site';
import { Ledger, type Durability } from './ledger.js';
import { LedgerError } from './errors.js';
import { crashChildPath } from '@keymesh/testkit/crash-child-path';
import { tempDir } from '@keymesh/testkit/temp-ledger';

const CHILD = crashChildPath;

/** Events missing from events_by_member / events_by_resource (schema 4), read from the closed file. */
function indexGaps(path: string): { byMember: number; byResource: number; events: number } {
  const db = new Database(path, { readonly: true });
  try {
    const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      byMember: n('SELECT count(*) AS n FROM events ev WHERE ev.member IS NOT NULL AND NOT EXISTS (SELECT 1 FROM events_by_member x WHERE x.member = ev.member AND x.at = ev.at AND x.id = ev.id)'),
      byResource: n('SELECT count(*) AS n FROM events ev WHERE NOT EXISTS (SELECT 1 FROM events_by_resource x WHERE x.resource = ev.resource AND x.at = ev.at AND x.id = ev.id)'),
      events: n('SELECT count(*) AS n FROM events'),
    };
  } finally {
    db.close();
  }
}
// 12 rounds by default (25 cost ~55 s, a child process each): rounds alternate 'group' and
// 'each', kill at a random 20-250 ms into the appends, and the replay check runs at rounds 10 and
// 12, so both modes are killed six times each on a file that keeps growing. A deeper run:
// KEYMESH_CRASH_ROUNDS=50 npm test.
const ROUNDS = Number(process.env.KEYMESH_CRASH_ROUNDS) || 12;

let r = 12345;
const rand = (lo: number, hi: number) => ((r = (Math.imul(r, 1103515245) + 12345) >>> 0), lo + ((r >>> 8) % (hi - lo + 1)));

/** Runs the child on `path` and SIGKILLs it `delayMs` after it is ready; returns the lines it reported. */
function crashRound(path: string, site: string, seed: number, delayMs: number, durability: Durability): Promise<{ acked: Array<[number, string]>; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, path, site, String(seed), durability], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (!timer && out.startsWith('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      // Only complete lines count: a line is written whole after its append returned.
      const lines = out.split('\n').slice(0, -1).filter((l) => l !== 'ready');
      resolve({ acked: lines.map((l) => l.split(' ')).map(([seq, hash]) => [Number(seq), hash!] as [number, string]), signal, stderr });
    });
  });
}

describe('SIGKILL while appending', () => {
  it(`${ROUNDS} rounds on one file, durability 'group' and 'each' in turn: it opens, every feed verifies, every acknowledged entry is there`, async () => {
    const site = new TestSite();
    const author = testKey(1).publicKey;
    const path = join(tempDir('keymesh-crash-'), 'crash.db');
    const init = Ledger.open(path, { site: site.site });
    init.ingest([encodeEntry(site.genesis)]);
    init.close();

    const acked = new Map<number, string>([[1, entryHash(site.genesis)]]);
    let maxAcked = 1;
    let unacked = 0;
    const started = Date.now();
    const spent = { child: 0, verify: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const delay = rand(20, 250);
      let t = Date.now();
      // Both durable modes, alternately on one file: a kill -9 must lose nothing in either.
      const durability = round % 2 ? 'each' : 'group';
      const res = await crashRound(path, site.site, round + 1, delay, durability);
      spent.child += Date.now() - t;
      t = Date.now();
      expect({ round, durability, signal: res.signal, stderr: res.stderr }).toEqual({ round, durability, signal: 'SIGKILL', stderr: '' });
      for (const [seq, hash] of res.acked) {
        expect(acked.has(seq) ? acked.get(seq) : hash).toBe(hash); // never a second entry for one seq
        acked.set(seq, hash);
        maxAcked = Math.max(maxAcked, seq);
      }

      const ledger = Ledger.open(path, { site: site.site });
      try {
        expect(ledger.verify()).toEqual([]);
        spent.verify += Date.now() - t;
        const head = ledger.heads()[author]!;
        // Possibly one transaction (up to 6 entries) more than reported: committed, killed before it said so.
        expect(head).toBeGreaterThanOrEqual(maxAcked);
        expect(head - maxAcked).toBeLessThanOrEqual(6);
        unacked += head - maxAcked;
        const entries = ledger.read(author, 1, head + 10);
        expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
        expect(ledger.count()).toBe(head);
        for (const e of entries) {
          const want = acked.get(e.seq);
          if (want !== undefined) expect(entryHash(e)).toBe(want);
          else acked.set(e.seq, entryHash(e)); // committed but unreported: the next round builds on it
        }
        maxAcked = head;
        if (round % 10 === 9 || round === ROUNDS - 1) {
          // The materialised policy table (written in the same transactions) matches a replay.
          const replay = Ledger.open(join(tempDir(), 'replay.db'), { site: site.site, durability: 'process' });
          expect(replay.ingest(ledger.readEncoded(author, 1, head)).rejected).toEqual([]);
          expect(ledger.materialised()).toEqual(replay.materialised());
          expect(ledger.digest()).toBe(replay.digest());
          replay.close();
        }
      } finally {
        ledger.close();
      }
      // The access log's member and resource indexes, written in batches, hold every event again:
      // those past the last batch were found on open and indexed by close().
      expect(indexGaps(path)).toEqual({ byMember: 0, byResource: 0, events: expect.any(Number) });
    }
    const ms = Date.now() - started;
    process.stdout.write(`crash: ${ROUNDS} rounds, ${acked.size} entries checked (${maxAcked} in the feed, ${unacked} committed but unreported when killed), ${ms} ms (children ${spent.child} ms, open + verify ${spent.verify} ms)\n`);
    expect(maxAcked).toBeGreaterThan(ROUNDS * 3); // the child really was appending when killed
  }, Math.max(120_000, ROUNDS * 5_000));
});

describe('a file cut short while closed', () => {
  /** A ledger whose first `checkpointed` entries are in the main file and the rest only in the WAL (as after a crash). */
  function snapshot() {
    const site = new TestSite();
    const key = testKey(1);
    const dir = tempDir('keymesh-trunc-');
    const path = join(dir, 'src.db');
    const ledger = Ledger.open(path, { site: site.site });
    ledger.ingest([encodeEntry(site.genesis)]);
    for (let i = 0; i < 40; i++) ledger.append(key, 'member.put', memberBody(`m${i}`, { contact: 'x'.repeat(200) }));
    ledger.close(); // checkpoints: everything so far is in the main file
    const again = Ledger.open(path, { site: site.site });
    const checkpointed = again.heads()[key.publicKey]!;
    for (let i = 0; i < 30; i++) {
      again.appendMany(key, [
        { type: 'member.put', body: memberBody(`w${i}`, { contact: 'y'.repeat(200) }) },
        { type: 'access.decision', body: { resource: 'door', credential: { kind: 'card', card: testCard(`c${i}`) }, allow: true, reason: 'ALLOWED', member: `w${i}`, at: 1_700_000_000_000 + i } },
      ]);
    }
    // Copy the pair while it is open and idle: exactly what a power cut would leave.
    copyFileSync(path, join(dir, 'crash.db'));
    copyFileSync(path + '-wal', join(dir, 'crash.db-wal'));
    const hashes = [...again.iterateEncoded(key.publicKey)].map((j) => entryHash(JSON.parse(j)));
    again.close();
    return { site, author: key.publicKey, dir, checkpointed, hashes, crash: join(dir, 'crash.db') };
  }

  /** Opens `path`: either a consistent prefix holding every checkpointed entry, or a LedgerError naming the file. */
  function judge(path: string, s: ReturnType<typeof snapshot>): 'recovered' | 'refused' {
    let ledger: Ledger;
    try {
      ledger = Ledger.open(path, { site: s.site.site });
    } catch (err) {
      expect(err).toBeInstanceOf(LedgerError);
      expect(err).toMatchObject({ details: { path } });
      return 'refused';
    }
    try {
      expect(ledger.verify()).toEqual([]);
      const head = ledger.heads()[s.author] ?? 0;
      expect(head).toBeGreaterThanOrEqual(s.checkpointed);
      const got = ledger.read(s.author, 1, head + 10).map((e) => entryHash(e));
      expect(got).toEqual(s.hashes.slice(0, head));
      return 'recovered';
    } finally {
      ledger.close();
    }
  }

  it('the WAL cut at random offsets: recovered to a consistent prefix with every checkpointed entry', () => {
    const s = snapshot();
    const walSize = statSync(s.crash + '-wal').size;
    expect(walSize).toBeGreaterThan(32 * 4096);
    // Untouched, the crash copy holds every entry.
    const whole = join(s.dir, 'whole.db');
    copyFileSync(s.crash, whole);
    copyFileSync(s.crash + '-wal', whole + '-wal');
    expect(judge(whole, s)).toBe('recovered');
    const w = Ledger.open(whole, { site: s.site.site });
    expect(w.heads()[s.author]).toBe(s.hashes.length);
    w.close();
    const outcomes: string[] = [];
    for (let k = 0; k < 12; k++) {
      const at = k === 0 ? 0 : k === 1 ? 31 : rand(32, walSize - 1);
      const p = join(s.dir, `wal-${k}.db`);
      copyFileSync(s.crash, p);
      copyFileSync(s.crash + '-wal', p + '-wal');
      truncateSync(p + '-wal', at);
      outcomes.push(judge(p, s));
    }
    process.stdout.write(`truncated WAL: ${outcomes.length} cuts, all ${outcomes[0]}\n`);
    // A torn WAL tail is the normal crash case: SQLite drops the incomplete transactions.
    expect(outcomes.every((o) => o === 'recovered')).toBe(true);
  });

  it('the main file cut at random offsets (with or without its WAL): refused with the file named, or recovered consistently', () => {
    const s = snapshot();
    const size = statSync(s.crash).size;
    const outcomes: Record<string, number> = {};
    for (let k = 0; k < 16; k++) {
      const withWal = k % 2 === 1;
      const at = k < 2 ? rand(1, 99) : rand(100, size - 1); // inside the 100-byte header, then anywhere
      const p = join(s.dir, `main-${k}.db`);
      copyFileSync(s.crash, p);
      if (withWal) copyFileSync(s.crash + '-wal', p + '-wal');
      truncateSync(p, at);
      const o = judge(p, s);
      outcomes[o] = (outcomes[o] ?? 0) + 1;
      expect(existsSync(p)).toBe(true);
    }
    process.stdout.write(`truncated main file: ${JSON.stringify(outcomes)}\n`);
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});
