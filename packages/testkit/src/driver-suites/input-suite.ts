/**
 * The shared suite every digital-input driver (door sensor, exit button, e-stop, activity) runs,
 * MQTT.js-style: a driver's test calls `inputSuite('onoff', harness)` with a harness that opens
 * the driver over its lowest seam and drives the electrical level there. The types are
 * structural: testkit never imports the edge agent.
 *
 * What it holds every driver to: read() and watch() report *active* (polarity applied: an
 * active-low line is active when low); watch() reports each change once, with an epoch-ms time;
 * a glitch shorter than the debounce time is never reported and a change held longer is;
 * an unsubscribed or closed input calls nobody. Timings are real and short; nothing asserts speed.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { eventually } from '../processes.js';

/** The part of the edge agent's `DigitalInput` the suite uses. */
export interface SuiteInput {
  read(): boolean;
  watch(listener: (active: boolean, atMs: number) => void): () => void;
  close(): Promise<void>;
}

export interface InputHarness<I extends SuiteInput = SuiteInput> {
  /** Opens the driver under test on a line the harness can drive. */
  open(opts: { activeLow?: boolean; debounceMs?: number }): Promise<I>;
  /** Sets the electrical level (true = high) of the last opened input's line at the lowest seam. */
  drive(level: boolean): Promise<void>;
  /**
   * Optional: drives the line to `level` and back after `widthMs` as the seam sees it, in one
   * go (e.g. two edges stamped `widthMs` apart). Without it the suite calls drive() twice at once.
   */
  glitch?(level: boolean, widthMs: number): Promise<void>;
  /** Releases what the harness made for one test; called after each test, after the input is closed. */
  close?(): Promise<void>;
}

/** Seams that deliver edges asynchronously (a child process) get this long to deliver. */
const SETTLE_MS = 10_000;
const DEBOUNCE_MS = 150;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function inputSuite<I extends SuiteInput>(name: string, harness: InputHarness<I>): void {
  describe(`input driver: ${name}`, () => {
    let opened: I[] = [];
    const open = async (opts: { activeLow?: boolean; debounceMs?: number }): Promise<I> => {
      const i = await harness.open(opts);
      opened.push(i);
      return i;
    };
    /** Waits until read() says `active`, then asserts it. */
    const expectRead = async (input: I, active: boolean): Promise<void> => {
      try {
        await eventually(`read() to say ${active ? 'active' : 'inactive'}`, () => (input.read() === active ? true : undefined), SETTLE_MS, 10);
      } catch {
        /* reported by the assertion below */
      }
      expect(input.read()).toBe(active);
    };
    const waitFor = async (what: string, cond: () => boolean): Promise<void> => {
      try {
        await eventually(what, () => (cond() ? true : undefined), SETTLE_MS, 10);
      } catch {
        /* the caller's assertion reports it */
      }
    };
    /** Opens an input and drives it idle (inactive), settled. */
    const openIdle = async (activeLow: boolean, debounceMs?: number): Promise<I> => {
      const i = await open(debounceMs === undefined ? { activeLow } : { activeLow, debounceMs });
      await harness.drive(activeLow);
      await expectRead(i, false);
      return i;
    };

    afterEach(async () => {
      const is = opened;
      opened = [];
      for (const i of is) await i.close();
      await harness.close?.();
    });

    for (const activeLow of [false, true]) {
      const wiring = activeLow ? 'active-low' : 'active-high';
      const activeLevel = !activeLow;

      it(`${wiring}: read() reports active with the polarity applied`, async () => {
        const i = await openIdle(activeLow);
        await harness.drive(activeLevel);
        await expectRead(i, true);
        await harness.drive(!activeLevel);
        await expectRead(i, false);
      });

      it(`${wiring}: watch() reports each change once, with an epoch-ms time`, async () => {
        const i = await openIdle(activeLow);
        const seen: [boolean, number][] = [];
        const unwatch = i.watch((active, atMs) => seen.push([active, atMs]));
        const before = Date.now();
        await harness.drive(activeLevel);
        await waitFor('the change to active', () => seen.length >= 1);
        await harness.drive(!activeLevel);
        await waitFor('the change back', () => seen.length >= 2);
        await expectRead(i, false);
        unwatch();
        expect(seen.map(([a]) => a)).toEqual([true, false]);
        for (const [, atMs] of seen) {
          // A time on the epoch-ms scale, near this test's run (an hour either way: not a speed check).
          expect(Math.abs(atMs - before)).toBeLessThan(3_600_000);
        }
      });
    }

    it('an unsubscribed listener is not called; the others still are', async () => {
      const i = await openIdle(false);
      const gone: boolean[] = [];
      const kept: boolean[] = [];
      const unwatch = i.watch((a) => gone.push(a));
      i.watch((a) => kept.push(a));
      unwatch();
      unwatch(); // twice is harmless
      await harness.drive(true);
      await waitFor('the change', () => kept.length >= 1);
      expect(kept).toEqual([true]);
      expect(gone).toEqual([]);
    });

    it(`debounce: a glitch shorter than debounceMs is never reported; a change held longer is`, async () => {
      const i = await openIdle(false, DEBOUNCE_MS);
      const seen: boolean[] = [];
      i.watch((a) => seen.push(a));
      if (harness.glitch) await harness.glitch(true, 1);
      else {
        await harness.drive(true);
        await harness.drive(false);
      }
      // The line now rests low. Raise it for good: the only report must be this change. Had the
      // glitch been reported, its true/false would come first.
      await harness.drive(true);
      await expectRead(i, true);
      await waitFor('the held change', () => seen.length >= 1);
      await sleep(DEBOUNCE_MS * 3); // time for anything late to show up (not a speed check)
      expect(seen).toEqual([true]);
      expect(i.read()).toBe(true);
    });

    it('a closed input calls nobody and close() twice is harmless', async () => {
      const i = await openIdle(false);
      const seen: boolean[] = [];
      i.watch((a) => seen.push(a));
      await i.close();
      await harness.drive(true);
      await sleep(DEBOUNCE_MS * 2); // time for a wrong report to show up (not a speed check)
      expect(seen).toEqual([]);
      await expect(i.close()).resolves.toBeUndefined();
    });
  });
}
