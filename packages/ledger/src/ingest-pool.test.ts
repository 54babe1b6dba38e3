import { describe, it, expect, afterAll } from '@jest/globals';
import { encodeEntry } from '@keymesh/protocol';
import { memberBody, playHistory, resourceBody, shuffled, testCard, testKey, TestSite, type HistoryStep } from '@keymesh/testkit/site';
import { IngestPool } from './ingest-pool.js';
import { tempDir, tempLedger } from '@keymesh/testkit/temp-ledger';
import type { IngestResult, Ledger } from './ledger.js';

const dir = tempDir();
const open: Ledger[] = [];
afterAll(() => open.forEach((l) => l.close()));

/** A byte changed somewhere in the line (kept valid UTF-8). */
function tamper(line: string, at: number): string {
  const i = at % line.length;
  const c = line[i] === 'a' ? 'b' : 'a';
  return line.slice(0, i) + c + line.slice(i + 1);
}

describe('IngestPool (validation in a worker)', () => {
  it('gives the same result and the same state as Ledger.ingest, rejections and all', async () => {
    for (let seed = 1; seed <= 8; seed++) {
      const steps = Array.from({ length: 30 }, (_, i) => [i * seed, i * 7 + seed, i * 3, seed * i] as HistoryStep);
      const h = playHistory(steps);
      const lines = h.entries().map((e) => encodeEntry(e));
      const bad = [tamper(lines[5]!, seed * 31), tamper(lines[9]!, seed * 57), '{"nope":1}', lines[3]!.replace('{', '{ ')];
      const input = shuffled([...lines, ...lines.slice(0, 6), ...bad], seed);
      const [a, b] = [tempLedger(h.site.site, {}, dir), tempLedger(h.site.site, {}, dir)];
      open.push(a, b);
      const pool = new IngestPool(b);
      const direct: IngestResult[] = [];
      for (let i = 0; i < input.length; i += 7) direct.push(a.ingest(input.slice(i, i + 7)));
      const pooled = await pool.ingest(input, { batch: 7 });
      await pool.close();
      const sum = (k: 'accepted' | 'duplicates' | 'waiting') => direct.reduce((n, r) => n + r[k], 0);
      expect(pooled).toMatchObject({ accepted: sum('accepted'), duplicates: sum('duplicates'), waiting: sum('waiting') });
      expect(pooled.rejected.map((r) => r.code).sort()).toEqual(direct.flatMap((r) => r.rejected.map((x) => x.code)).sort());
      expect(pooled.rejected.length).toBeGreaterThanOrEqual(2);
      expect(b.digest()).toBe(a.digest());
      expect(b.heads()).toEqual(a.heads());
      expect(b.quarantined(100).length).toBe(a.quarantined(100).length);
    }
  });

  /** An enrolled node's access events of each kind after the admin's rules, and hostile copies. */
  function eventSite() {
    const site = new TestSite();
    const admin = site.admins[0]!;
    const node = site.writer(testKey(30));
    admin.write('resource.put', resourceBody('door', { kind: 'door' }));
    admin.write('resource.put', resourceBody('laser', { requiredCerts: ['laser'] }));
    admin.write('node.enrol', { node: node.id, name: 'panel', role: 'edge', resources: ['door', 'laser'] });
    admin.write('member.put', memberBody('ada'));
    node.receive(admin.feed);
    const at = 1_700_000_000_000;
    const card = testCard('c1');
    for (let i = 0; i < 4; i++) {
      node.write('access.decision', { resource: i % 2 ? 'laser' : 'door', credential: { kind: 'card', card }, allow: i % 2 === 0, reason: i % 2 ? 'UNKNOWN_CARD' : 'ALLOWED', member: i === 3 ? null : 'ada', at: at + i });
      node.write('door.event', { resource: 'door', event: 'opened', at: at + i, cause: null });
      node.write('door.event', { resource: 'door', event: 'unlocked', at: at + i, cause: { kind: 'tap', member: 'ada', card } });
      node.write('machine.session', { resource: 'laser', session: `s${i}`, member: 'ada', event: i % 2 ? 'end' : 'start', at: at + i, seconds: i % 2 ? 60 : null, endReason: i % 2 ? 'tap_out' : null });
    }
    const other = new TestSite({ name: 'Elsewhere' }).writer(testKey(30));
    const foreign = other.write('door.event', { resource: 'door', event: 'opened', at, cause: null });
    return { site, rules: [site.genesis, ...admin.feed.slice(1)].map((e) => encodeEntry(e)), events: node.feed.map((e) => encodeEntry(e)), foreign: encodeEntry(foreign) };
  }

  /** The line with one hex character of its signature changed: the same entry, a forged signature. */
  const forge = (line: string) => line.replace(/"sig":"(.)/, (_, c: string) => `"sig":"${c === 'a' ? 'b' : 'a'}`);

  it('stores, indexes and refuses access events exactly as Ledger.ingest does', async () => {
    for (const verify of ['each', 'batch'] as const) {
      for (let seed = 1; seed <= 4; seed++) {
        const { site, rules, events, foreign } = eventSite();
        const n = events.length;
        const bad = [
          forge(events[n - 1]!), // the newest, forged (alone for an even seed: in batch mode the run is then verified one by one)
          forge(events[5]!), // an inner entry, forged, beside the genuine one
          events[7]!.replace('"resource":"door"', '"resource":"doom"'), // a changed body: another hash, a broken chain
          events[2]!.replace('{', '{ '), // not canonical
          foreign, // another site's
        ];
        const input = [...rules, ...shuffled([...events.slice(0, seed % 2 ? n : n - 1), ...bad], seed)];
        const [a, b] = [tempLedger(site.site, {}, dir), tempLedger(site.site, {}, dir)];
        open.push(a, b);
        const pool = new IngestPool(b);
        const direct: IngestResult[] = [];
        for (let i = 0; i < input.length; i += 6) direct.push(a.ingest(input.slice(i, i + 6), { verify }));
        const pooled = await pool.ingest(input, { batch: 6, verify });
        await pool.close();
        const sum = (k: 'accepted' | 'duplicates' | 'waiting') => direct.reduce((x, r) => x + r[k], 0);
        expect(pooled).toMatchObject({ accepted: sum('accepted'), duplicates: sum('duplicates'), waiting: sum('waiting') });
        expect(pooled.rejected.map((r) => r.code).sort()).toEqual(direct.flatMap((r) => r.rejected.map((x) => x.code)).sort());
        // (A forged copy has its entry's hash: beside the genuine one it is a duplicate. Alone as
        // the newest of the run it is refused.)
        expect(pooled.rejected.map((r) => r.code)).toEqual(expect.arrayContaining(['NOT_CANONICAL_BYTES', 'WRONG_SITE', ...(seed % 2 ? [] : ['BAD_SIGNATURE'])]));
        expect(b.digest()).toBe(a.digest());
        expect(b.heads()).toEqual(a.heads());
        expect(b.accessLog({ limit: 1000 })).toEqual(a.accessLog({ limit: 1000 }));
        expect(b.accessLog({ member: 'ada', limit: 1000 })).toEqual(a.accessLog({ member: 'ada', limit: 1000 }));
        expect(b.accessLog({ resource: 'laser', limit: 1000 })).toEqual(a.accessLog({ resource: 'laser', limit: 1000 }));
        expect(b.accessLog({ limit: 1000 }).rows.length).toBeGreaterThan(0);
        expect(b.quarantined(100).map((q) => q.code).sort()).toEqual(a.quarantined(100).map((q) => q.code).sort());
      }
    }
  });
});
