import { describe, it, expect, afterAll } from '@jest/globals';
import { encodeEntry } from '@keymesh/protocol';
import { playHistory, shuffled, type HistoryStep } from '@keymesh/testkit/site';
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
});
