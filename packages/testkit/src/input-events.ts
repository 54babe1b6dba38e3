/**
 * Real Linux `struct input_event` bytes, as a USB keyboard-wedge badge reader produces them on
 * /dev/input/event*, for the HID reader's tests (write them to a FIFO the reader opens).
 *
 * Layouts (little-endian, as on x86 and ARM): 64-bit Linux, 24 bytes: tv_sec (8), tv_usec (8),
 * type (2), code (2), value (s32); 32-bit Linux (armhf Raspberry Pi OS, and a 32-bit process on
 * a 64-bit kernel through evdev's compat path), 16 bytes: tv_sec (4), tv_usec (4), type, code,
 * value. The keycodes are the kernel's (include/uapi/linux/input-event-codes.h), written out
 * here on their own rather than taken from the driver, so the tests check its table.
 */
export type InputEventLayout = '64bit' | '32bit';

export const EV_SYN = 0;
export const EV_KEY = 1;
export const EV_MSC = 4;
export const MSC_SCAN = 4;
export const KEY_ENTER = 28;
export const KEY_KPENTER = 96;
export const KEY_LEFTSHIFT = 42;
export const KEY_SPACE = 57;

/** Main-row keycodes of the characters a wedge reader types. */
export const KEYCODES: Readonly<Record<string, number>> = {
  '1': 2, '2': 3, '3': 4, '4': 5, '5': 6, '6': 7, '7': 8, '8': 9, '9': 10, '0': 11,
  a: 30, b: 48, c: 46, d: 32, e: 18, f: 33,
};
/** Keypad digits, which some readers send instead. */
export const KEYPAD_CODES: Readonly<Record<string, number>> = {
  '7': 71, '8': 72, '9': 73, '4': 75, '5': 76, '6': 77, '1': 79, '2': 80, '3': 81, '0': 82,
};
/** HID usage ids a keyboard reports as MSC_SCAN before each key (0x70000 | usage). */
const USAGE: Readonly<Record<number, number>> = {
  2: 0x1e, 3: 0x1f, 4: 0x20, 5: 0x21, 6: 0x22, 7: 0x23, 8: 0x24, 9: 0x25, 10: 0x26, 11: 0x27,
  30: 0x04, 48: 0x05, 46: 0x06, 32: 0x07, 18: 0x08, 33: 0x09, 28: 0x28, 42: 0xe1, 57: 0x2c,
  96: 0x58, 79: 0x59, 80: 0x5a, 81: 0x5b, 75: 0x5c, 76: 0x5d, 77: 0x5e, 71: 0x5f, 72: 0x60, 73: 0x61, 82: 0x62,
};

export function inputEventBytes(layout: InputEventLayout): number {
  return layout === '64bit' ? 24 : 16;
}

/** One input_event record at `timeUs` (µs since the epoch). */
export function inputEvent(layout: InputEventLayout, timeUs: number, type: number, code: number, value: number): Buffer {
  const sec = Math.floor(timeUs / 1e6);
  const usec = Math.round(timeUs - sec * 1e6);
  const b = Buffer.alloc(inputEventBytes(layout));
  let o = 0;
  if (layout === '64bit') {
    b.writeBigInt64LE(BigInt(sec), 0);
    b.writeBigInt64LE(BigInt(usec), 8);
    o = 16;
  } else {
    b.writeInt32LE(sec, 0);
    b.writeInt32LE(usec, 4);
    o = 8;
  }
  b.writeUInt16LE(type, o);
  b.writeUInt16LE(code, o + 2);
  b.writeInt32LE(value, o + 4);
  return b;
}

export interface KeyTapOptions {
  layout: InputEventLayout;
  /** Time of the first key, µs since the epoch (default 1,700,000,000 s). */
  startUs?: number;
  /** µs from one key to the next (default 8,000: a reader types ~125 keys/s). */
  stepUs?: number;
  /** Use keypad digits. */
  keypad?: boolean;
  /** Type hex letters with shift held (upper case), as most hex readers do. */
  shiftLetters?: boolean;
}

/**
 * The events of a keyboard typing `keys`: each character pressed and released with its
 * MSC_SCAN and SYN_REPORT, as the kernel reports it. `keys` holds digits, hex letters, '\n'
 * (KEY_ENTER), '\r' (KEY_KPENTER) and ' ' (KEY_SPACE, a key no reader types).
 */
export function keyTaps(keys: string, opts: KeyTapOptions): Buffer {
  const { layout, keypad = false, shiftLetters = false } = opts;
  const step = opts.stepUs ?? 8000;
  let t = opts.startUs ?? 1_700_000_000e6;
  const out: Buffer[] = [];
  const key = (code: number, value: 0 | 1) => {
    out.push(inputEvent(layout, t, EV_MSC, MSC_SCAN, 0x70000 | (USAGE[code] ?? 0)));
    out.push(inputEvent(layout, t, EV_KEY, code, value));
    out.push(inputEvent(layout, t, EV_SYN, 0, 0));
  };
  for (const ch of keys) {
    const lower = ch.toLowerCase();
    const code =
      ch === '\n' ? KEY_ENTER : ch === '\r' ? KEY_KPENTER : ch === ' ' ? KEY_SPACE : keypad && KEYPAD_CODES[ch] !== undefined ? KEYPAD_CODES[ch] : KEYCODES[lower];
    if (code === undefined) throw new Error(`keyTaps: no key for ${JSON.stringify(ch)}`);
    const shifted = shiftLetters && /[a-f]/i.test(ch);
    if (shifted) key(KEY_LEFTSHIFT, 1);
    key(code, 1);
    t += 1000;
    key(code, 0);
    if (shifted) key(KEY_LEFTSHIFT, 0);
    t += step - 1000;
  }
  return Buffer.concat(out);
}
