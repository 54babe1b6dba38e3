/**
 * Character LCDs on a Firmata board, through johnny-five's LCD with MockFirmata as the board's
 * io: what the glass shows is decoded from what the controller was sent (I2C bytes to a PCF8574
 * backpack, or the parallel pins' writes) by an HD44780 model.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import { MockBoards, parallelLcd, pcf8574Lcd, type MockIoClass } from '@keymesh/testkit/firmata-seam';
import { displaySuite } from '@keymesh/testkit/driver-suites/display-suite';
import type { DriverEnv } from '../env.js';
import { FirmataBoards } from './boards.js';
import { lcdText, openDisplay } from './display.js';
import { firmataDisplaySchema } from './schemas.js';

const MockFirmata = (createRequire(import.meta.url)('mock-firmata') as { Firmata: MockIoClass }).Firmata;
const env: DriverEnv = { log: () => {}, now: () => Date.now() };
const BOARDS = { uno: { port: '/dev/ttyACM0', timeoutMs: 10_000 } };
const PINS = [8, 9, 4, 5, 6, 7] as const;

let mocks: MockBoards;
let boards: FirmataBoards | undefined;
const open = (cfg: Record<string, unknown>) => {
  mocks = new MockBoards(MockFirmata);
  boards = new FirmataBoards(BOARDS, env, { io: mocks.io });
  return openDisplay('display', firmataDisplaySchema.parse({ driver: 'johnny-five', board: 'uno', ...cfg }), env, boards);
};
const closeAll = async () => {
  await boards?.close();
  boards = undefined;
};

displaySuite('johnny-five LCD, PCF8574 backpack, 16x2', {
  open: () => open({}),
  shown: () => pcf8574Lcd(mocks.seam('uno').i2cBytes(0x27)).lines(2, 16),
  close: closeAll,
});

displaySuite('johnny-five LCD, PCF8574A backpack, 20x4', {
  open: () => open({ controller: 'PCF8574A', columns: 20, rows: 4 }),
  shown: () => pcf8574Lcd(mocks.seam('uno').i2cBytes(0x3f)).lines(4, 20),
  close: closeAll,
});

displaySuite('johnny-five LCD, parallel, 16x2', {
  open: () => open({ controller: 'PARALLEL', pins: [...PINS] }),
  shown: () => parallelLcd(mocks.seam('uno'), PINS).lines(2, 16),
  close: closeAll,
});

describe('johnny-five LCD', () => {
  afterEach(closeAll);

  it('shows what its ROM can: accents dropped, other characters as "?"', async () => {
    const d = await open({ address: 0x20 });
    d.show(['Zoë Café ~ \\ 5€', 'naïve']);
    expect(pcf8574Lcd(mocks.seam('uno').i2cBytes(0x20)).lines(2, 16)).toEqual(['Zoe Cafe ? ? 5? ', 'naive           ']);
    expect(lcdText('😀x', 4)).toBe('??x ');
  });

  it('rewrites only the lines that changed', async () => {
    const d = await open({});
    d.show(['door locked', 'tap your badge']);
    const seam = mocks.seam('uno');
    const before = seam.i2cBytes(0x27).length;
    d.show(['door locked', 'tap your badge']);
    expect(seam.i2cBytes(0x27).length).toBe(before);
    d.show(['door locked', 'welcome']);
    const sent = seam.i2cBytes(0x27).length - before;
    // One line: a cursor move and 16 characters, 2 nibbles each, 2 port writes a nibble (EN high, EN low).
    expect(sent).toBe((1 + 16) * 2 * 2);
  });

  it('is blank after close', async () => {
    const d = await open({});
    d.show(['in use', 'Alice 00:12']);
    await d.close();
    expect(pcf8574Lcd(mocks.seam('uno').i2cBytes(0x27)).lines(2, 16).map((l) => l.trim())).toEqual(['', '']);
  });

  it('config: the wiring and size are checked, with the fix in the message', () => {
    const parse = (cfg: Record<string, unknown>) => firmataDisplaySchema.safeParse({ driver: 'johnny-five', board: 'uno', ...cfg });
    expect(parse({ controller: 'PARALLEL' }).error?.issues[0]?.message).toMatch(/needs pins: \[RS, EN, D4, D5, D6, D7\]/);
    expect(parse({ pins: [...PINS] }).error?.issues[0]?.message).toMatch(/remove pins, or set controller: PARALLEL/);
    expect(parse({ controller: 'PARALLEL', pins: [...PINS], address: 0x27 }).error?.issues[0]?.message).toMatch(/no I2C address/);
    expect(parse({ rows: 4 }).error?.issues[0]?.message).toMatch(/set columns: 20/);
    expect(parse({ pins: [1, 2, 3] }).success).toBe(false);
    expect(parse({ controller: 'HD44780' }).success).toBe(false);
    expect(parse({ extra: 1 }).success).toBe(false);
    expect(parse({}).data).toMatchObject({ controller: 'PCF8574', columns: 16, rows: 2 });
  });
});
