import { execFileSync } from 'node:child_process';
import { open as openFile, writeFile, type FileHandle } from 'node:fs/promises';
import { readerSuite } from '@keymesh/testkit/driver-suites/reader-suite';
import { EV_KEY, inputEvent, keyTaps, type InputEventLayout } from '@keymesh/testkit/input-events';
import { scratchDir } from '@keymesh/testkit/temp-files';
import type { CardUid } from '@keymesh/protocol';
import { openReader } from './index.js';
import { defaultEventLayout, KeyWedgeDecoder, type WedgeEvent } from './hid-keys.js';
import type { DriverEnv } from '../env.js';

const env: DriverEnv = { log: () => {}, now: () => Date.now() };
const texts = (events: WedgeEvent[]) => events.map((e) => (e.kind === 'text' ? e.text : `error: ${e.detail}`));
const decoder = (layout: InputEventLayout, form: 'decimal' | 'hex' = 'decimal') => new KeyWedgeDecoder({ layout, form, maxReadMs: 1000, maxChars: 64 });

/** The decimal a wedge reader types for a 4-byte uid: 10 digits, zero-padded. */
const typed = (uidHex: string) => BigInt('0x' + uidHex).toString(10).padStart(10, '0');

describe('keyboard-wedge decoding of input_event records', () => {
  for (const layout of ['64bit', '32bit'] as const) {
    it(`reads digits up to Enter (${layout} records)`, () => {
      expect(texts(decoder(layout).push(keyTaps('0012345678\n', { layout })))).toEqual(['0012345678']);
    });
  }

  it('takes keypad digits and keypad Enter, and hex letters typed with shift', () => {
    expect(texts(decoder('64bit').push(keyTaps('0012345678\r', { layout: '64bit', keypad: true })))).toEqual(['0012345678']);
    expect(texts(decoder('64bit', 'hex').push(keyTaps('04A1B2C3D4E5F6\n', { layout: '64bit', shiftLetters: true })))).toEqual(['04a1b2c3d4e5f6']);
  });

  it('takes records split anywhere across chunks', () => {
    const d = decoder('32bit');
    const bytes = keyTaps('4294967295\n', { layout: '32bit' });
    const out: WedgeEvent[] = [];
    for (let i = 0; i < bytes.length; i += 7) out.push(...d.push(bytes.subarray(i, i + 7)));
    expect(texts(out)).toEqual(['4294967295']);
  });

  it('the layout must match: 64-bit records read as 32-bit ones yield no read', () => {
    expect(texts(decoder('32bit').push(keyTaps('0012345678\n', { layout: '64bit' }))).filter((t) => !t.startsWith('error'))).not.toContain('0012345678');
  });

  it('refuses a read holding a key no reader types, then reads the next card', () => {
    const out = texts(decoder('64bit').push(keyTaps('0012 45678\n0087654321\n', { layout: '64bit' })));
    expect(out).toEqual([expect.stringContaining('not a digit'), '0087654321']);
  });

  it('refuses a read longer than maxChars', () => {
    const d = new KeyWedgeDecoder({ layout: '64bit', form: 'decimal', maxReadMs: 1000, maxChars: 10 });
    expect(texts(d.push(keyTaps('00123456789\n', { layout: '64bit' })))).toEqual([expect.stringContaining('longer than 10 characters')]);
  });

  it('refuses a read typed too slowly, by the kernel timestamps, whole up to its Enter', () => {
    // 10 keys 150 ms apart: 1.35 s from first key to Enter, no gap over 1 s
    const out = texts(decoder('64bit').push(keyTaps('0012345678\n', { layout: '64bit', stepUs: 150_000 })));
    expect(out).toEqual([expect.stringContaining('took longer than 1000 ms')]);
  });

  it('a partial read that stopped is reported and never joined to the next card', () => {
    const d = decoder('64bit');
    const partial = keyTaps('0012', { layout: '64bit', startUs: 1e15 });
    const next = keyTaps('0087654321\n', { layout: '64bit', startUs: 1e15 + 5e6 });
    expect(texts(d.push(Buffer.concat([partial, next])))).toEqual([expect.stringContaining('without Enter'), '0087654321']);
    expect(texts(d.push(keyTaps('12', { layout: '64bit' })))).toEqual([]);
    expect(d.inRead).toBe(true);
    expect(texts(d.abandon())).toEqual([expect.stringContaining('without Enter')]);
    expect(d.inRead).toBe(false);
  });

  it('ignores key releases, autorepeat, other event types and stray Enters', () => {
    const t = 1_700_000_000e6;
    const bytes = Buffer.concat([
      keyTaps('\n', { layout: '64bit', startUs: t }),
      inputEvent('64bit', t + 10, EV_KEY, 2, 2), // autorepeat of '1'
      inputEvent('64bit', t + 20, 2, 0, 5), // EV_REL
      keyTaps('0000000042\n', { layout: '64bit', startUs: t + 100 }),
    ]);
    expect(texts(decoder('64bit').push(bytes))).toEqual(['0000000042']);
  });

  it('defaults the layout from the architecture', () => {
    expect(defaultEventLayout('arm')).toBe('32bit');
    expect(defaultEventLayout('ia32')).toBe('32bit');
    expect(defaultEventLayout('arm64')).toBe('64bit');
    expect(defaultEventLayout('x64')).toBe('64bit');
  });
});

/** A FIFO standing in for /dev/input/eventN: the reader opens it as it would the device, the test writes real input_event bytes. */
function fifoSeam(layout: InputEventLayout, form: 'decimal' | 'hex' = 'decimal', maxReadMs = 1000) {
  let dir: ReturnType<typeof scratchDir> | undefined;
  let writer: FileHandle | undefined;
  let clockUs = 1_700_000_000e6;
  const write = async (keys: string) => {
    clockUs += 10e6; // each presentation 10 s after the last, by the records' own clock
    if (!writer) throw new Error('the FIFO is not open');
    await writer.write(keyTaps(keys, { layout, startUs: clockUs, shiftLetters: true }));
  };
  return {
    write,
    open: async () => {
      dir = scratchDir('keymesh-hid-');
      const path = dir.file('event0');
      execFileSync('mkfifo', [path]);
      // a FIFO's open waits for the other end: open both at once
      const [reader, w] = await Promise.all([
        openReader('reader', { driver: 'hid', device: path, form, layout, maxReadMs }, env),
        openFile(path, 'w'),
      ]);
      writer = w;
      return reader;
    },
    cleanup: async () => {
      await writer?.close();
      writer = undefined;
      dir?.remove();
    },
  };
}

for (const layout of ['64bit', '32bit'] as const) {
  const seam = fifoSeam(layout);
  readerSuite(`hid decimal, ${layout} input_event`, {
    uids: ['00bc614e', 'fffffffe'],
    open: seam.open,
    presentGood: (uid) => seam.write(`${typed(uid)}\n`),
    presentGarbage: () => seam.write('0012 45678\n'),
    cleanup: seam.cleanup,
  });
}

const hexSeam = fifoSeam('64bit', 'hex');
readerSuite('hid hex', {
  uids: ['04a1b2c3d4e5f6', 'deadbeef'],
  open: hexSeam.open,
  presentGood: (uid) => hexSeam.write(`${uid.toUpperCase()}\n`),
  presentGarbage: () => hexSeam.write('ABC\n'), // odd number of hex digits: not whole bytes
  cleanup: hexSeam.cleanup,
});

describe('hid reader device', () => {
  it('reports a read left without Enter once it goes stale, by the wall clock', async () => {
    const seam = fifoSeam('64bit', 'decimal', 100);
    const reader = await seam.open();
    const errors: Error[] = [];
    const reads: CardUid[] = [];
    reader.onError((e) => errors.push(e));
    reader.onRead((u) => reads.push(u));
    await seam.write('0012');
    for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('without Enter')]);
    await seam.write('0087654321\n');
    for (let i = 0; i < 100 && reads.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(reads).toEqual(['05397fb1']);
    await reader.close();
    await seam.cleanup();
  });

  it('a device that cannot be opened is DRIVER_UNAVAILABLE, naming the fix', async () => {
    await expect(openReader('door', { driver: 'hid', device: '/dev/input/by-id/nope-event-kbd', form: 'decimal', layout: '64bit', maxReadMs: 1000 }, env)).rejects.toMatchObject({
      code: 'DRIVER_UNAVAILABLE',
      message: expect.stringContaining('/dev/input/by-id/'),
    });
    const dir = scratchDir('keymesh-hid-');
    const path = dir.file('event9');
    await writeFile(path, '', { mode: 0o000 });
    if (process.getuid?.() !== 0) {
      await expect(openReader('door', { driver: 'hid', device: path, form: 'decimal', layout: '64bit', maxReadMs: 1000 }, env)).rejects.toMatchObject({
        code: 'DRIVER_UNAVAILABLE',
        message: expect.stringContaining('group input'),
      });
    }
    dir.remove();
  });
});
