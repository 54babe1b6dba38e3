/**
 * The shared suite every buzzer driver (a piezo on a Firmata board, a GPIO buzzer, the sim)
 * runs, MQTT.js-style: a driver's test calls `buzzerSuite('johnny-five piezo', harness)` with a
 * harness that opens the driver and reads its lowest seam. The types are structural: testkit
 * never imports the edge agent.
 *
 * What it holds every driver to: silent from open; allow, deny and warn sound and then end by
 * themselves, leaving the line silent; alarm sounds until off() (the door controller's alarm
 * lasts until the door closes); off() silences at once and nothing more sounds after it (the
 * rest of the pattern is dropped); close() silences too, and a beep after close() makes no sound.
 * Waits are for absence (nothing happens within a time), never for speed.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { eventually } from '../processes.js';

export type SuiteBeepPattern = 'allow' | 'deny' | 'warn' | 'alarm';

/** The part of the edge agent's `Buzzer` the suite uses. */
export interface SuiteBuzzer {
  beep(pattern: SuiteBeepPattern): void;
  off(): void;
  close(): Promise<void>;
}

export interface BuzzerHarness<B extends SuiteBuzzer = SuiteBuzzer> {
  /** Opens the driver under test. */
  open(): Promise<B>;
  /** How many sound-making events the seam has seen (tone toggles, on-writes...); only grows. */
  activity(): number | Promise<number>;
  /** Whether the line rests at its silent level now. */
  silent(): boolean | Promise<boolean>;
  /** Releases what the harness made for one test; called after each test, after the buzzer is closed. */
  close?(): Promise<void>;
}

const ENDING: SuiteBeepPattern[] = ['allow', 'deny', 'warn'];
/** Longer than one cycle of any alarm (on and off), so each window holds some sound. */
const ALARM_WINDOW_MS = 1_200;
/** Long enough for a wrong sound to show up; not a speed check. */
const QUIET_MS = 300;
const SETTLE_MS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function buzzerSuite<B extends SuiteBuzzer>(name: string, harness: BuzzerHarness<B>): void {
  describe(`buzzer driver: ${name}`, () => {
    let opened: B[] = [];
    const open = async (): Promise<B> => {
      const b = await harness.open();
      opened.push(b);
      return b;
    };
    const soundStarts = (from: number): Promise<unknown> =>
      eventually('the buzzer to sound', async () => ((await harness.activity()) > from ? true : undefined), SETTLE_MS, 5);
    /** Waits until nothing has sounded for QUIET_MS and the line is silent. */
    const quiet = async (): Promise<void> => {
      await eventually(
        'the buzzer to fall quiet',
        async () => {
          const a = await harness.activity();
          await sleep(QUIET_MS);
          return (await harness.activity()) === a && (await harness.silent()) ? true : undefined;
        },
        SETTLE_MS,
        0,
      );
    };

    afterEach(async () => {
      const bs = opened;
      opened = [];
      for (const b of bs) await b.close();
      await harness.close?.();
    });

    it('is silent from open and makes no sound untold', async () => {
      await open();
      const a = await harness.activity();
      expect(await harness.silent()).toBe(true);
      await sleep(QUIET_MS);
      expect(await harness.activity()).toBe(a);
      expect(await harness.silent()).toBe(true);
    });

    for (const pattern of ENDING) {
      it(`beep('${pattern}') sounds, then ends by itself with the line silent`, async () => {
        const b = await open();
        const a = await harness.activity();
        b.beep(pattern);
        await soundStarts(a);
        await quiet();
        expect(await harness.silent()).toBe(true);
      });
    }

    it("beep('alarm') keeps sounding until off()", async () => {
      const b = await open();
      const a = await harness.activity();
      b.beep('alarm');
      await soundStarts(a);
      for (let window = 0; window < 3; window++) {
        const before = await harness.activity();
        await sleep(ALARM_WINDOW_MS);
        expect(await harness.activity()).toBeGreaterThan(before);
      }
      b.off();
      expect(await harness.silent()).toBe(true);
    });

    it('a new beep cuts the alarm: the line falls quiet after it, with no alarm after', async () => {
      const b = await open();
      const a = await harness.activity();
      b.beep('alarm');
      await soundStarts(a);
      b.beep('allow');
      await quiet();
      const after = await harness.activity();
      await sleep(ALARM_WINDOW_MS);
      expect(await harness.activity()).toBe(after);
    });

    it('off() silences at once and drops the rest of the pattern', async () => {
      const b = await open();
      const a = await harness.activity();
      b.beep('alarm');
      await soundStarts(a);
      b.off();
      expect(await harness.silent()).toBe(true);
      const atOff = await harness.activity();
      await sleep(QUIET_MS * 2);
      expect(await harness.activity()).toBe(atOff);
      expect(await harness.silent()).toBe(true);
      b.off(); // twice is harmless
    });

    it('close() silences; a beep after close makes no sound; close() twice is harmless', async () => {
      const b = await open();
      const a = await harness.activity();
      b.beep('alarm');
      await soundStarts(a);
      await b.close();
      expect(await harness.silent()).toBe(true);
      const atClose = await harness.activity();
      expect(() => b.beep('allow')).not.toThrow();
      await sleep(QUIET_MS);
      expect(await harness.activity()).toBe(atClose);
      await expect(b.close()).resolves.toBeUndefined();
    });
  });
}
