/**
 * Relays and LEDs on a Firmata board, through the real johnny-five code path with MockFirmata
 * as the board's io; assertions read what the board was told (FirmataSeam), not johnny-five.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import { MockBoards, type MockIoClass } from '@keymesh/testkit/firmata-seam';
import { outputSuite } from '@keymesh/testkit/driver-suites/output-suite';
import type { DriverEnv } from '../env.js';
import { FirmataBoards } from './boards.js';
import { openInput } from './input.js';
import { openOutput } from './output.js';
import { firmataInputSchema, firmataOutputSchema } from './schemas.js';

const MockFirmata = (createRequire(import.meta.url)('mock-firmata') as { Firmata: MockIoClass }).Firmata;
const env: DriverEnv = { log: () => {}, now: () => Date.now() };
const BOARDS = { uno: { port: '/dev/ttyACM0', timeoutMs: 10_000 } };
const PIN = 7;

/** An output harness over one mock board; `extra` is merged into each device's config. */
function harness(extra: (activeLow: boolean) => Record<string, unknown>) {
  let mocks: MockBoards;
  let boards: FirmataBoards | undefined;
  return {
    async open({ activeLow = false }: { activeLow?: boolean }) {
      mocks = new MockBoards(MockFirmata);
      boards = new FirmataBoards(BOARDS, env, { io: mocks.io });
      return openOutput('relay', firmataOutputSchema.parse({ driver: 'johnny-five', board: 'uno', pin: PIN, ...extra(activeLow) }), env, boards);
    },
    level: () => mocks.seam('uno').level(PIN) ?? false,
    levels: () => mocks.seam('uno').levels(PIN),
    close: async () => boards?.close(),
  };
}

outputSuite('johnny-five relay, NO', harness((activeLow) => ({ activeLow })));
// NC inverts the pin once more: NC on an active-high module shows the suite's active-low levels.
outputSuite('johnny-five relay, NC', harness((activeLow) => ({ type: 'NC', activeLow: !activeLow })));
outputSuite('johnny-five LED', harness((activeLow) => ({ component: 'led', activeLow })));

describe('johnny-five relay: safe state', () => {
  let boards: FirmataBoards | undefined;
  afterEach(async () => {
    await boards?.close();
    boards = undefined;
  });

  it('is released inside the ready event, before the devices opened ahead of it, and latched before its pin becomes an output', async () => {
    const mocks = new MockBoards(MockFirmata, { autoReady: false });
    boards = new FirmataBoards(BOARDS, env, { io: mocks.io });
    const button = openInput('exitButton', firmataInputSchema.parse({ driver: 'johnny-five', board: 'uno', pin: 2 }), env, boards);
    const relay = openOutput('relay', firmataOutputSchema.parse({ driver: 'johnny-five', board: 'uno', pin: PIN, type: 'NC' }), env, boards);
    await new Promise((r) => setImmediate(r)); // johnny-five loaded, board made
    const seam = mocks.seam('uno');
    expect(seam.calls).toEqual([]);
    seam.ready();
    const calls = seam.calls.map((c) => ('pin' in c ? `${c.op} ${c.pin} ${'value' in c ? c.value : c.mode}` : c.op));
    // NC: released is HIGH. The relay's calls come first; the button's (pin 2) after.
    expect(calls.slice(0, 3)).toEqual([`digitalWrite ${PIN} 1`, `pinMode ${PIN} 1`, `digitalWrite ${PIN} 1`]);
    expect(calls.findIndex((c) => c.includes(' 2 '))).toBeGreaterThan(2);
    await expect(relay).resolves.toMatchObject({ value: false });
    await button;
  });

  it('closing the boards drives an energised relay safe before the board goes', async () => {
    const mocks = new MockBoards(MockFirmata);
    boards = new FirmataBoards(BOARDS, env, { io: mocks.io });
    const relay = await openOutput('relay', firmataOutputSchema.parse({ driver: 'johnny-five', board: 'uno', pin: PIN }), env, boards);
    relay.write(true);
    expect(mocks.seam('uno').level(PIN)).toBe(true);
    await boards.close();
    expect(mocks.seam('uno').level(PIN)).toBe(false);
    expect(relay.value).toBe(false);
  });

  it('two devices given one pin are refused, naming both and the fix', async () => {
    const mocks = new MockBoards(MockFirmata);
    boards = new FirmataBoards(BOARDS, env, { io: mocks.io });
    await openOutput('relay', firmataOutputSchema.parse({ driver: 'johnny-five', board: 'uno', pin: PIN }), env, boards);
    await expect(openInput('exitButton', firmataInputSchema.parse({ driver: 'johnny-five', board: 'uno', pin: PIN }), env, boards)).rejects.toMatchObject({
      code: 'BAD_CONFIG',
      message: expect.stringMatching(/pin 7 of board "uno" is given to both relay and exitButton: give each device its own pin/),
    });
    // The relay kept its pin as an output, released.
    expect(mocks.seam('uno').mode(PIN)).toBe(1);
    expect(mocks.seam('uno').level(PIN)).toBe(false);
  });

  it('several devices share one board, opened once', async () => {
    const mocks = new MockBoards(MockFirmata);
    boards = new FirmataBoards(BOARDS, env, { io: mocks.io });
    const cfg = (pin: number, component: string) => firmataOutputSchema.parse({ driver: 'johnny-five', board: 'uno', pin, component });
    const [relay, green, red] = await Promise.all([openOutput('relay', cfg(7, 'relay'), env, boards), openOutput('greenLed', cfg(12, 'led'), env, boards), openOutput('redLed', cfg(13, 'led'), env, boards)]);
    green.write(true);
    expect(mocks.opened).toBe(1);
    const seam = mocks.seam('uno');
    expect([seam.level(7), seam.level(12), seam.level(13)]).toEqual([false, true, false]);
    relay.write(true);
    red.write(true);
    green.write(false);
    expect([seam.level(7), seam.level(12), seam.level(13)]).toEqual([true, false, true]);
    // Opened after the board is ready: set up at once, safe.
    const late = await openOutput('buzzer', cfg(8, 'relay'), env, boards);
    expect(late.value).toBe(false);
    expect(seam.level(8)).toBe(false);
    expect(mocks.opened).toBe(1);
  });
});
