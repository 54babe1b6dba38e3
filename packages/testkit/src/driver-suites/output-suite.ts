/**
 * The shared suite every output driver (relay, LED, GPIO buzzer) runs, MQTT.js-style: a driver's
 * test calls `outputSuite('gpiod v2', harness)` with a harness that opens the driver over its
 * lowest seam (a fake sysfs tree, fake libgpiod tools, a mock Firmata board...) and reads the
 * electrical level back from that seam. The types are structural: testkit never imports the
 * edge agent.
 *
 * What it holds every driver to (DESIGN §9: a relay that flickered on at boot opened a door):
 * the line is at its safe (off) level from the moment it is opened, before any write, and never
 * visits the energised level on the way; `true` is the energised level, inverted for active-low;
 * `value` is what was last written; close() leaves the line off; a write after close is ignored
 * and does not throw.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { eventually } from '../processes.js';

/** The part of the edge agent's `Output` the suite uses. */
export interface SuiteOutput {
  readonly value: boolean;
  write(on: boolean): void;
  close(): Promise<void>;
}

export interface OutputHarness<O extends SuiteOutput = SuiteOutput> {
  /** Opens the driver under test (its line in the off state, as the driver chooses). */
  open(opts: { activeLow?: boolean }): Promise<O>;
  /** The electrical level (true = high) of the line the last open() drove, read at the lowest seam. */
  level(): boolean | Promise<boolean>;
  /**
   * Optional: every electrical level the line has been driven to since open() began, in order
   * (the seam's record). Lets the suite see a flicker that level() alone would miss.
   */
  levels?(): readonly boolean[] | Promise<readonly boolean[]>;
  /** Releases what the harness made for one test; called after each test, after the output is closed. */
  close?(): Promise<void>;
}

/** Seams that move the line asynchronously (a child process) get this long to settle. */
const SETTLE_MS = 10_000;

export function outputSuite<O extends SuiteOutput>(name: string, harness: OutputHarness<O>): void {
  describe(`output driver: ${name}`, () => {
    let opened: O[] = [];
    const open = async (opts: { activeLow?: boolean }): Promise<O> => {
      const o = await harness.open(opts);
      opened.push(o);
      return o;
    };
    /** Waits until the seam shows `electrical`, then asserts it (fails with the level seen). */
    const expectLevel = async (electrical: boolean): Promise<void> => {
      let last: boolean | undefined;
      try {
        await eventually(`the line to read ${electrical ? 'high' : 'low'}`, async () => ((last = await harness.level()) === electrical ? true : undefined), SETTLE_MS, 10);
      } catch {
        /* reported by the assertion below */
      }
      expect(last).toBe(electrical);
    };
    const expectNeverEnergised = async (energised: boolean): Promise<void> => {
      if (!harness.levels) return;
      expect(await harness.levels()).not.toContain(energised);
    };

    afterEach(async () => {
      const os = opened;
      opened = [];
      for (const o of os) await o.close();
      await harness.close?.();
    });

    for (const activeLow of [false, true]) {
      const off = activeLow; // the electrical level of "off"
      const on = !activeLow;
      const wiring = activeLow ? 'active-low' : 'active-high';

      it(`${wiring}: the line is off from the moment it is opened, before any write`, async () => {
        const o = await open({ activeLow });
        expect(o.value).toBe(false);
        await expectLevel(off);
        await expectNeverEnergised(on);
      });

      it(`${wiring}: write(true) energises the line, write(false) releases it; value follows`, async () => {
        const o = await open({ activeLow });
        o.write(true);
        expect(o.value).toBe(true);
        await expectLevel(on);
        o.write(false);
        expect(o.value).toBe(false);
        await expectLevel(off);
        o.write(true);
        await expectLevel(on);
      });

      it(`${wiring}: repeated writes of one value keep the line there`, async () => {
        const o = await open({ activeLow });
        o.write(true);
        o.write(true);
        await expectLevel(on);
        expect(o.value).toBe(true);
        o.write(false);
        o.write(false);
        await expectLevel(off);
        expect(o.value).toBe(false);
      });

      it(`${wiring}: close() leaves the line off, and a write after close is ignored without throwing`, async () => {
        const o = await open({ activeLow });
        o.write(true);
        await expectLevel(on);
        await o.close();
        await expectLevel(off);
        expect(() => o.write(true)).not.toThrow();
        await expectLevel(off);
        await expect(o.close()).resolves.toBeUndefined();
      });
    }
  });
}
