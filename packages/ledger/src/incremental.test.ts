/**
 * The materialised state is kept up to date entry by entry; this proves it always equals a
 * full recompute from the entries, on random histories delivered in random order and batches.
 */
import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { PolicyState } from '@keymesh/protocol';
import { playHistory, shuffled, memberBody as member, type HistoryStep } from '@keymesh/testkit/site';
import { tempDir, tempLedger } from '@keymesh/testkit/temp-ledger';

const step = fc.tuple(fc.nat(4), fc.nat(10), fc.nat(50), fc.nat(50)) as fc.Arbitrary<HistoryStep>;
// 100 histories by default (500 cost ~20 s, a file ledger each): every run draws up to 24
// steps over every writer kind, a random order and batch size (1-12, overlapping), so 100 runs
// still reach out-of-order waits, duplicates and every materialised key type many times.
// A deeper run: KEYMESH_PROPERTY_RUNS=1000 npm test.
const RUNS = Number(process.env.KEYMESH_PROPERTY_RUNS) || 100;

function recomputed(state: PolicyState): Record<string, { value: unknown; heads: string[] }> {
  const out: Record<string, { value: unknown; heads: string[] }> = {};
  for (const key of state.keys()) {
    const value = state.valueOf(key);
    if (value !== undefined) out[key] = { value, heads: state.headHashes(key) };
  }
  return out;
}

describe('incremental state', () => {
  const dir = tempDir();
  it(`equals a full recompute from the entries (${RUNS} random histories, random order and batches)`, () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 24 }), fc.nat(), fc.integer({ min: 1, max: 12 }), (steps, seed, batch) => {
        const h = playHistory(steps);
        const entries = shuffled(h.entries(), seed);
        const ledger = tempLedger(h.site.site, {}, dir);
        try {
          for (let i = 0; i < entries.length; i += batch) {
            ledger.ingest(entries.slice(i, i + batch + (i % 3))); // overlapping slices: duplicates too
          }
          // And through the append path, by an admin whose whole feed is now present.
          ledger.append(h.writers.A.key, 'member.put', member('m1', { status: 'suspended' }));
          const all = [...ledger.iterateEncoded()].map((j) => JSON.parse(j));
          const full = PolicyState.from(h.site.site, all);
          expect(ledger.materialised()).toEqual(recomputed(full));
          expect(ledger.digest()).toBe(full.digest());
        } finally {
          ledger.close();
        }
      }),
      { numRuns: RUNS },
    );
  }, Math.max(60_000, RUNS * 200));
});
