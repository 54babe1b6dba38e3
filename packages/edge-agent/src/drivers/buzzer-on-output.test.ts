import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { BEEP_PATTERNS, BuzzerOnOutput } from './buzzer-on-output.js';
import type { Output } from './types.js';

/** An output that records each level it is driven to, with the fake clock's time. */
function recordingOutput(): Output & { log: [number, boolean][]; closed: boolean } {
  let value = false;
  const o = {
    name: 'buzzer',
    log: [] as [number, boolean][],
    closed: false,
    get value() {
      return value;
    },
    write(on: boolean) {
      if (on !== value) o.log.push([Date.now(), on]);
      value = on;
    },
    async close() {
      o.write(false);
      o.closed = true;
    },
  };
  return o;
}

describe('BuzzerOnOutput', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  for (const pattern of ['allow', 'deny', 'warn'] as const) {
    it(`${pattern} plays its on/off sequence once and ends silent`, () => {
      const out = recordingOutput();
      const played: (string | null)[] = [];
      const b = new BuzzerOnOutput(out, 'buzzer', BEEP_PATTERNS, (p) => played.push(p));
      b.beep(pattern);
      jest.advanceTimersByTime(10_000);
      // The times each level was set at are the sequence's running sums.
      const steps = BEEP_PATTERNS[pattern].steps;
      const expected: [number, boolean][] = [];
      let t = 0;
      steps.forEach((d, i) => {
        expected.push([t, i % 2 === 0]);
        t += d;
      });
      if (steps.length % 2 === 1) expected.push([t, false]);
      expect(out.log).toEqual(expected);
      expect(out.value).toBe(false);
      expect(played).toEqual([pattern, null]);
      expect(b.playing).toBeNull();
      expect(jest.getTimerCount()).toBe(0);
    });
  }

  it('deny sounds three times; allow once', () => {
    const count = (p: 'allow' | 'deny') => {
      const out = recordingOutput();
      new BuzzerOnOutput(out).beep(p);
      jest.advanceTimersByTime(10_000);
      return out.log.filter(([, on]) => on).length;
    };
    expect(count('allow')).toBe(1);
    expect(count('deny')).toBe(3);
  });

  it('alarm repeats until off(), which silences it at once', () => {
    const out = recordingOutput();
    const b = new BuzzerOnOutput(out);
    b.beep('alarm');
    jest.advanceTimersByTime(60_000);
    expect(out.log.filter(([, on]) => on).length).toBeGreaterThanOrEqual(60);
    expect(b.playing).toBe('alarm');
    jest.advanceTimersByTime(100); // mid-beep
    expect(out.value).toBe(true);
    b.off();
    expect(out.value).toBe(false);
    expect(b.playing).toBeNull();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('a new pattern cuts the one playing', () => {
    const out = recordingOutput();
    const b = new BuzzerOnOutput(out);
    b.beep('alarm');
    jest.advanceTimersByTime(100);
    b.beep('allow');
    expect(b.playing).toBe('allow');
    jest.advanceTimersByTime(10_000);
    expect(out.value).toBe(false);
    expect(b.playing).toBeNull();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('close() silences and closes the output; a beep after close does nothing', async () => {
    const out = recordingOutput();
    const b = new BuzzerOnOutput(out);
    b.beep('alarm');
    await b.close();
    expect(out.value).toBe(false);
    expect(out.closed).toBe(true);
    b.beep('deny');
    expect(out.value).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
  });
});
