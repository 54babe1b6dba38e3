import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { Hlc, HybridClock, MAX_HLC_LOGICAL, compareHlc } from './hlc.js';

describe('hybrid logical clock', () => {
  it('never goes backwards, whatever the wall clock and remote stamps do', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(
        fc.record({ local: fc.integer({ min: 0, max: 1e12 }) }),
        fc.record({ remote: fc.integer({ min: 0, max: 1e12 }), logical: fc.nat(1000) }),
      ), { maxLength: 60 }), (steps) => {
        let wall = 0;
        const clock = new HybridClock(() => wall, Number.MAX_SAFE_INTEGER);
        let last = clock.now();
        for (const s of steps) {
          let next;
          if ('local' in s) {
            wall = s.local;
            next = clock.now();
          } else {
            next = clock.receive({ wall: s.remote, logical: s.logical });
            expect(compareHlc(next, { wall: s.remote, logical: s.logical })).toBeGreaterThan(0);
          }
          expect(compareHlc(next, last)).toBeGreaterThan(0);
          last = next;
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses a stamp from too far in the future instead of jumping to it', () => {
    const clock = new HybridClock(() => 1_000_000, 60_000);
    const before = clock.now();
    expect(() => clock.receive({ wall: 1_000_000 + 3_600_000, logical: 0 })).toThrow(expect.objectContaining({ code: 'HLC_DRIFT' }));
    expect(clock.peek()).toEqual(before);
    expect(clock.receive({ wall: 1_050_000, logical: 3 })).toEqual({ wall: 1_050_000, logical: 4 });
  });

  it('a remote counter at the schema limit cannot push local stamps past it (issue 10, finding 7)', () => {
    const wall = 1_700_000_000_000;
    const clock = new HybridClock(() => wall);
    clock.receive({ wall, logical: MAX_HLC_LOGICAL });
    for (let i = 0; i < 3; i++) {
      const next = clock.now();
      expect(Hlc.safeParse(next).success).toBe(true);
      expect(next.logical).toBeLessThanOrEqual(MAX_HLC_LOGICAL);
    }
    expect(clock.peek().wall).toBe(wall + 1); // moved on by a millisecond instead
    // A restart from a stored stamp at the limit does the same.
    const again = new HybridClock(() => wall, undefined, { wall, logical: MAX_HLC_LOGICAL });
    expect(Hlc.safeParse(again.now()).success).toBe(true);
  });
});
