import { describe, expect, it } from '@jest/globals';
import { TapFilter } from './tap-filter.js';

const KNOWN = 'a'.repeat(32);
const known = (ref: string) => ref === KNOWN;
const unknown = (i: number) => i.toString(16).padStart(32, 'f');

describe('TapFilter', () => {
  it('a badge held on the reader (a read every 100 ms for 10 s) is one tap', () => {
    const f = new TapFilter({ known, tapRepeatMs: 1500 });
    const passed = [];
    for (let t = 0; t <= 10_000; t += 100) if (f.accept(KNOWN, t).pass) passed.push(t);
    expect(passed).toEqual([0]);
    // Taken away and presented again after the window: a new tap.
    expect(f.accept(KNOWN, 10_000 + 1500)).toEqual({ pass: true, known: true });
  });

  it('two taps further apart than the window are two taps', () => {
    const f = new TapFilter({ known, tapRepeatMs: 1000 });
    expect(f.accept(KNOWN, 0).pass).toBe(true);
    expect(f.accept(KNOWN, 999)).toEqual({ pass: false, why: 'repeat' });
    expect(f.accept(KNOWN, 2000).pass).toBe(true);
  });

  it('an unknown card held on the reader is passed on once', () => {
    const f = new TapFilter({ known, unknownRepeatMs: 60_000 });
    expect(f.accept(unknown(1), 0)).toEqual({ pass: true, known: false });
    for (let t = 100; t < 30_000; t += 100) expect(f.accept(unknown(1), t)).toEqual({ pass: false, why: 'unknown_repeat' });
  });

  it('phantom codes are rate-limited, but a new unknown card still passes once the budget refills, and a dropped card is passed when tapped again', () => {
    const f = new TapFilter({ known, unknownBurst: 3, unknownIntervalMs: 10_000, unknownRepeatMs: 60_000 });
    // 200 phantom codes in 2 s: only the burst goes through.
    const passed = [];
    for (let i = 0; i < 200; i++) if (f.accept(unknown(i), i * 10).pass) passed.push(i);
    expect(passed).toEqual([0, 1, 2]);
    expect(f.takeDropped()).toBe(197);
    expect(f.takeDropped()).toBe(0);
    // A real card, tapped during the spam, is dropped but not remembered as seen…
    const admin = unknown(5000);
    expect(f.accept(admin, 2500)).toEqual({ pass: false, why: 'rate_limited' });
    // …so when the admin taps it again a little later it is passed on (and logged) once.
    expect(f.accept(admin, 12_100)).toEqual({ pass: true, known: false });
    expect(f.accept(admin, 12_200)).toEqual({ pass: false, why: 'unknown_repeat' });
    // Known cards are never rate-limited.
    expect(f.accept(KNOWN, 12_300)).toEqual({ pass: true, known: true });
  });

  it('a different unknown card right after a repeated one is passed on', () => {
    const f = new TapFilter({ known });
    expect(f.accept(unknown(1), 0).pass).toBe(true);
    for (let t = 50; t < 1000; t += 50) expect(f.accept(unknown(1), t).pass).toBe(false);
    expect(f.accept(unknown(2), 1000)).toEqual({ pass: true, known: false });
  });

  it('remembers a bounded number of unknown cards, forgetting the oldest first', () => {
    const f = new TapFilter({ known, unknownMemory: 2, unknownBurst: 100, unknownRepeatMs: 60_000 });
    f.accept(unknown(1), 0);
    f.accept(unknown(2), 1);
    f.accept(unknown(3), 2);
    expect(f.accept(unknown(3), 3).pass).toBe(false);
    expect(f.accept(unknown(1), 4).pass).toBe(true);
  });

  it('a clock going back restarts the refill interval without a bonus', () => {
    const f = new TapFilter({ known, unknownBurst: 1, unknownIntervalMs: 10_000 });
    expect(f.accept(unknown(1), 100_000).pass).toBe(true);
    expect(f.accept(unknown(2), 5_000).pass).toBe(false);
    expect(f.accept(unknown(3), 14_000).pass).toBe(false);
    expect(f.accept(unknown(4), 15_000).pass).toBe(true);
  });

  it('refuses settings out of range', () => {
    expect(() => new TapFilter({ known, tapRepeatMs: 5 })).toThrow();
  });
});
