/**
 * Buttons and switches on a Firmata board, through the real johnny-five Button with MockFirmata
 * as the board's io: levels are driven as the board reports them (FirmataSeam.drive).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import { MockBoards, type MockIoClass } from '@keymesh/testkit/firmata-seam';
import { inputSuite } from '@keymesh/testkit/driver-suites/input-suite';
import type { DriverEnv } from '../env.js';
import { FirmataBoards } from './boards.js';
import { openInput } from './input.js';
import { firmataInputSchema } from './schemas.js';

const MockFirmata = (createRequire(import.meta.url)('mock-firmata') as { Firmata: MockIoClass }).Firmata;
const env: DriverEnv = { log: () => {}, now: () => Date.now() };
const BOARDS = { uno: { port: '/dev/ttyACM0', timeoutMs: 10_000 } };
const PIN = 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let mocks: MockBoards;
let boards: FirmataBoards | undefined;
const open = (cfg: Record<string, unknown>) => {
  mocks = new MockBoards(MockFirmata);
  boards = new FirmataBoards(BOARDS, env, { io: mocks.io });
  return openInput('exitButton', firmataInputSchema.parse({ driver: 'johnny-five', board: 'uno', pin: PIN, ...cfg }), env, boards);
};

inputSuite('johnny-five button', {
  open: ({ activeLow = false, debounceMs = 0 }) => open({ activeLow, debounceMs }),
  drive: async (level) => mocks.seam('uno').drive(PIN, level),
  close: async () => boards?.close(),
});

describe('johnny-five button: wiring options', () => {
  afterEach(async () => {
    await boards?.close();
    boards = undefined;
  });

  it('pullup: the pin is an input with its pull-up on, and is active when LOW (a button to GND)', async () => {
    const i = await open({ pullup: true, debounceMs: 0 });
    const seam = mocks.seam('uno');
    expect(seam.mode(PIN)).toBe(0); // INPUT
    expect(seam.levels(PIN)).toEqual([true]); // writing HIGH to an input turns its pull-up on
    expect(i.read()).toBe(false);
    seam.drive(PIN, false);
    await sleep(50); // johnny-five's own 7 ms debounce
    expect(i.read()).toBe(true);
  });

  it('activeLow false overrides the pull-up default: HIGH is active', async () => {
    const i = await open({ pullup: true, activeLow: false, debounceMs: 0 });
    mocks.seam('uno').drive(PIN, true);
    await sleep(50);
    expect(i.read()).toBe(true);
  });

  it('without pullup, nothing is written to the pin and HIGH is active', async () => {
    const i = await open({ debounceMs: 0 });
    expect(mocks.seam('uno').writes(PIN)).toEqual([]);
    mocks.seam('uno').drive(PIN, true);
    await sleep(50);
    expect(i.read()).toBe(true);
  });

  it('close() turns the pin\'s reports off, even with the button held (no hold timer left behind)', async () => {
    const i = await open({ debounceMs: 0 });
    const seam = mocks.seam('uno');
    seam.drive(PIN, true);
    await sleep(50);
    expect(i.read()).toBe(true);
    await i.close();
    expect(seam.reporting(PIN)).toBe(false);
    // jest would not exit if johnny-five's hold interval were still running.
  });
});
