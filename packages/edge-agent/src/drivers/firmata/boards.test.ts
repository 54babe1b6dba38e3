/**
 * Opening Firmata boards: once per board, refused with an error that names the board or port
 * and the fix; and the config of the johnny-five outputs and inputs.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { MockBoards, type MockIoClass } from '@keymesh/testkit/firmata-seam';
import type { DriverEnv } from '../env.js';
import { FirmataBoards, loadJohnnyFive } from './boards.js';
import { firmataBoardsSchema, firmataInputSchema, firmataOutputSchema } from './schemas.js';

const MockFirmata = (createRequire(import.meta.url)('mock-firmata') as { Firmata: MockIoClass }).Firmata;
const logs: [string, string, Record<string, unknown> | undefined][] = [];
const env: DriverEnv = { log: (level, msg, fields) => void logs.push([level, msg, fields]), now: () => Date.now() };

describe('FirmataBoards', () => {
  let boards: FirmataBoards | undefined;
  afterEach(async () => {
    await boards?.close();
    boards = undefined;
    logs.length = 0;
  });

  it('a board no device declared is refused, naming it, the declared ones and the fix', async () => {
    boards = new FirmataBoards({ uno: { port: '/dev/ttyACM0', timeoutMs: 10_000 } }, env, { io: new MockBoards(MockFirmata).io });
    await expect(boards.use('mega', () => 1)).rejects.toMatchObject({ code: 'BAD_CONFIG', message: expect.stringMatching(/board "mega" is not declared.*"uno".*boards: \{ mega: \{ port/) });
  });

  it('a board that never reports ready is refused after its timeout, naming the port, and every device waiting on it is told', async () => {
    const mocks = new MockBoards(MockFirmata, { autoReady: false });
    boards = new FirmataBoards({ uno: { port: '/dev/ttyUSB7', timeoutMs: 1_000 } }, env, { io: mocks.io });
    const a = boards.use('uno', () => 'relay');
    const b = boards.use('uno', () => 'lcd');
    const want = { code: 'DEVICE_FAILED', message: expect.stringMatching(/"uno" on \/dev\/ttyUSB7 did not report ready within 1000 ms: check the USB cable.*StandardFirmata/) };
    await expect(a).rejects.toMatchObject(want);
    await expect(b).rejects.toMatchObject(want);
    // Later devices get the same answer without waiting again; ready after the timeout changes nothing.
    mocks.seam('uno').ready();
    await expect(boards.use('uno', () => 'buzzer')).rejects.toMatchObject(want);
    expect(mocks.opened).toBe(1);
  });

  it('an error from the board once it is ready is logged, never thrown (an unheard "error" event would crash the agent)', async () => {
    const mocks = new MockBoards(MockFirmata, { autoReady: false });
    boards = new FirmataBoards({ uno: { port: '/dev/ttyACM3', timeoutMs: 10_000 } }, env, { io: mocks.io });
    const a = boards.use('uno', () => 1);
    await new Promise((r) => setImmediate(r));
    mocks.seam('uno').io.emit('connect');
    mocks.seam('uno').io.emit('ready');
    await expect(a).resolves.toBe(1);
    mocks.seam('uno').io.emit('error', new Error('serial port closed'));
    expect(logs).toContainEqual(['error', 'firmata board error', expect.objectContaining({ board: 'uno', error: 'serial port closed' })]);
  });

  it('the real johnny-five and firmata.js path: a port that is not there is refused, naming it', async () => {
    boards = new FirmataBoards({ uno: { port: '/dev/ttyKEYMESH-MISSING', timeoutMs: 10_000 } }, env);
    await expect(boards.use('uno', () => 1)).rejects.toMatchObject({ code: 'DEVICE_FAILED', message: expect.stringMatching(/"uno" on \/dev\/ttyKEYMESH-MISSING failed: .*cannot open \/dev\/ttyKEYMESH-MISSING/) });
  });

  it('johnny-five not installed: DRIVER_UNAVAILABLE with what to install', async () => {
    await expect(loadJohnnyFive('johnny-five-not-installed')).rejects.toMatchObject({ code: 'DRIVER_UNAVAILABLE', message: expect.stringMatching(/npm install johnny-five/) });
    const five = await loadJohnnyFive();
    expect(typeof five.Board).toBe('function');
  });

  it('close() waits for the port to send the safe-state writes before closing it', async () => {
    const mocks = new MockBoards(MockFirmata);
    boards = new FirmataBoards({ uno: { port: '/dev/ttyACM0', timeoutMs: 10_000 } }, env, { io: mocks.io });
    const events: string[] = [];
    const port = Object.assign(new EventEmitter(), {
      isOpen: true,
      writableLength: 3, // a write still queued in the stream
      drain: (cb: () => void) => void setImmediate(() => (events.push('drained'), cb())),
      close: () => void events.push('closed'),
    });
    await boards.use('uno', (b) => {
      (b.io as { transport?: unknown }).transport = port;
      b.onClose(() => void events.push('relay released'));
    });
    const closing = boards.close();
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual(['relay released']); // the stream has not said drain yet
    port.emit('drain');
    await closing;
    expect(events).toEqual(['relay released', 'drained', 'closed']);
  });

  it('after close() no board can be used, and close() twice is harmless', async () => {
    boards = new FirmataBoards({ uno: { port: '/dev/ttyACM0', timeoutMs: 10_000 } }, env, { io: new MockBoards(MockFirmata).io });
    await boards.use('uno', () => 1);
    await boards.close();
    await expect(boards.use('uno', () => 1)).rejects.toMatchObject({ code: 'DEVICE_FAILED' });
    await expect(boards.close()).resolves.toBeUndefined();
  });
});

describe('johnny-five config', () => {
  const dev = { driver: 'johnny-five', board: 'uno' };

  it('boards: a port each, a timeout by default; names are checked', () => {
    expect(firmataBoardsSchema.parse({ uno: { port: '/dev/ttyACM0' } })).toEqual({ uno: { port: '/dev/ttyACM0', timeoutMs: 10_000 } });
    expect(firmataBoardsSchema.safeParse({ uno: {} }).success).toBe(false);
    expect(firmataBoardsSchema.safeParse({ uno: { port: '/dev/ttyACM0', baud: 9600 } }).success).toBe(false);
    expect(firmataBoardsSchema.safeParse({ 'no spaces': { port: '/dev/ttyACM0' } }).error?.issues[0]?.message).toMatch(/rename the board/);
  });

  it('outputs: a relay by default (NO, active-high); a LED takes no NO/NC', () => {
    expect(firmataOutputSchema.parse({ ...dev, pin: 7 })).toEqual({ ...dev, pin: 7, component: 'relay', activeLow: false });
    expect(firmataOutputSchema.parse({ ...dev, pin: 'A0', type: 'NC' })).toMatchObject({ pin: 'A0', type: 'NC' });
    expect(firmataOutputSchema.safeParse({ ...dev, pin: 13, component: 'led', type: 'NC' }).error?.issues[0]?.message).toMatch(/type \(NO\/NC\) is for relays/);
    for (const pin of [-1, 1.5, 'D7', '7', 'A100']) expect(firmataOutputSchema.safeParse({ ...dev, pin }).success).toBe(false);
    expect(firmataOutputSchema.safeParse({ ...dev, pin: 7, type: 'no' }).success).toBe(false);
    expect(firmataOutputSchema.safeParse({ ...dev, driver: 'onoff', pin: 7 }).success).toBe(false);
  });

  it('inputs: no pull-up and active-high by default, debounced 20 ms', () => {
    expect(firmataInputSchema.parse({ ...dev, pin: 2 })).toEqual({ ...dev, pin: 2, pullup: false, debounceMs: 20 });
    expect(firmataInputSchema.safeParse({ ...dev, pin: 2, debounceMs: -1 }).success).toBe(false);
    expect(firmataInputSchema.safeParse({ ...dev, pin: 2, holdtime: 500 }).success).toBe(false);
  });
});
