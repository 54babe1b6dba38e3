/**
 * A piezo on a Firmata board, through johnny-five's Piezo with MockFirmata as the board's io:
 * the sound is the pin's toggling as the board was told it (FirmataSeam).
 */
import { describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import { MockBoards, type MockIoClass } from '@keymesh/testkit/firmata-seam';
import { buzzerSuite } from '@keymesh/testkit/driver-suites/buzzer-suite';
import type { DriverEnv } from '../env.js';
import { FirmataBoards } from './boards.js';
import { openBuzzer, PATTERNS } from './buzzer.js';
import { firmataBuzzerSchema } from './schemas.js';

const require = createRequire(import.meta.url);
const MockFirmata = (require('mock-firmata') as { Firmata: MockIoClass }).Firmata;
const env: DriverEnv = { log: () => {}, now: () => Date.now() };
const BOARDS = { uno: { port: '/dev/ttyACM0', timeoutMs: 10_000 } };
const PIN = 3;

let mocks: MockBoards;
let boards: FirmataBoards | undefined;

buzzerSuite('johnny-five piezo', {
  open: () => {
    mocks = new MockBoards(MockFirmata);
    boards = new FirmataBoards(BOARDS, env, { io: mocks.io });
    return openBuzzer('buzzer', firmataBuzzerSchema.parse({ driver: 'johnny-five', board: 'uno', pin: PIN }), env, boards);
  },
  // Every HIGH written is a half-wave of the tone; the silent level is LOW.
  activity: () => mocks.seam('uno').levels(PIN).filter(Boolean).length,
  silent: () => mocks.seam('uno').level(PIN) !== true,
  close: async () => boards?.close(),
});

describe('johnny-five piezo patterns', () => {
  it('every tone is a note johnny-five plays (it rests silently on any other number) and at most 523 Hz (the serial link)', () => {
    const notes = (require('johnny-five') as { Piezo: { Frequencies: Record<number, string> } }).Piezo.Frequencies;
    const tones = Object.values(PATTERNS).flatMap((p) => p.flatMap(([hz]) => (hz === null ? [] : [hz])));
    expect(tones.length).toBeGreaterThan(0);
    for (const hz of tones) {
      expect(notes[hz]).toBeDefined();
      expect(hz).toBeLessThanOrEqual(523);
    }
  });
});
