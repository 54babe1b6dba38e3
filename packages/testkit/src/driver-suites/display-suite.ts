/**
 * The shared suite every display driver (a Firmata LCD, the sim display) runs, MQTT.js-style:
 * a driver's test calls `displaySuite('johnny-five PCF8574', harness)` with a harness that opens
 * the driver and reads back, at its lowest seam, what the device shows (for an LCD: the
 * characters its controller was sent, decoded). The types are structural: testkit never
 * imports the edge agent.
 *
 * What it holds every driver to: a display opens blank; show() puts each line on its row, cut
 * to the width, and rows it was not given go blank; a shorter line leaves nothing of the longer
 * one before it; a control character never moves text to another row; after close() nothing
 * changes what is shown, and close() twice is harmless. Trailing spaces are not compared (an
 * LCD pads its rows, the sim keeps them short).
 */
import { afterEach, describe, expect, it } from '@jest/globals';

/** The part of the edge agent's `Display` the suite uses. */
export interface SuiteDisplay {
  readonly columns: number;
  readonly rows: number;
  show(lines: readonly string[]): void;
  close(): Promise<void>;
}

export interface DisplayHarness<D extends SuiteDisplay = SuiteDisplay> {
  /** Opens the driver under test. */
  open(): Promise<D>;
  /** What the last opened display shows now, one string per row, read at the lowest seam. */
  shown(): string[] | Promise<string[]>;
  /** Releases what the harness made for one test; called after each test, after the display is closed. */
  close?(): Promise<void>;
}

export function displaySuite<D extends SuiteDisplay>(name: string, harness: DisplayHarness<D>): void {
  describe(`display driver: ${name}`, () => {
    let opened: D[] = [];
    const open = async (): Promise<D> => {
      const d = await harness.open();
      opened.push(d);
      return d;
    };
    const shown = async (): Promise<string[]> => (await harness.shown()).map((l) => l.trimEnd());
    const blank = (d: SuiteDisplay): string[] => Array.from({ length: d.rows }, () => '');
    /** `lines` as the display must show them: one per row, cut to the width, the rest blank. */
    const expected = (d: SuiteDisplay, lines: string[]): string[] => blank(d).map((_, i) => (lines[i] ?? '').slice(0, d.columns).trimEnd());

    afterEach(async () => {
      const ds = opened;
      opened = [];
      for (const d of ds) await d.close();
      await harness.close?.();
    });

    it('opens blank, with a size of at least one row of eight', async () => {
      const d = await open();
      expect(d.rows).toBeGreaterThanOrEqual(1);
      expect(d.columns).toBeGreaterThanOrEqual(8);
      expect(await shown()).toEqual(blank(d));
    });

    it('shows each line on its row; a line longer than the width is cut; lines beyond the last row are dropped', async () => {
      const d = await open();
      const lines = Array.from({ length: d.rows + 1 }, (_, i) => `row ${i} ${'x'.repeat(d.columns)}`);
      lines[0] = 'Hello';
      d.show(lines);
      expect(await shown()).toEqual(expected(d, lines));
    });

    it('a shorter line replaces a longer one whole, and rows not given go blank', async () => {
      const d = await open();
      d.show(Array.from({ length: d.rows }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'));
      d.show(['Hi']);
      expect(await shown()).toEqual(expected(d, ['Hi']));
      d.show([]);
      expect(await shown()).toEqual(blank(d));
    });

    it('changing one line leaves the others as they were', async () => {
      const d = await open();
      const lines = Array.from({ length: d.rows }, (_, i) => `line ${i}`);
      d.show(lines);
      lines[d.rows - 1] = 'changed';
      d.show(lines);
      expect(await shown()).toEqual(expected(d, lines));
    });

    it('a control character stays on its row: no newline, tab or escape moves or garbles the others', async () => {
      const d = await open();
      const others = Array.from({ length: d.rows }, (_, i) => `keep ${i}`);
      d.show(['a\nb\r\tc\x1b[2J', ...others.slice(1)]);
      const now = await shown();
      expect(now).toHaveLength(d.rows);
      expect(now.slice(1)).toEqual(expected(d, others).slice(1));
      expect(now[0]!.length).toBeLessThanOrEqual(d.columns);
      expect(now[0]).not.toMatch(/[\x00-\x1f\x7f]/);
      expect(now[0]!.startsWith('a')).toBe(true);
    });

    it('after close() show() changes nothing, and close() twice is harmless', async () => {
      const d = await open();
      d.show(['before']);
      await d.close();
      const atClose = await shown();
      expect(() => d.show(['after'])).not.toThrow();
      expect(await shown()).toEqual(atClose);
      await expect(d.close()).resolves.toBeUndefined();
    });
  });
}
