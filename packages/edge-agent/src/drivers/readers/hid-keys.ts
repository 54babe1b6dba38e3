/**
 * Decodes a keyboard-wedge badge reader's `struct input_event` records (pure: bytes in, reads
 * and problems out). A wedge reader "types" the card's number and Enter; only key-down events
 * (EV_KEY, value 1) of digits, hex letters (shift ignored) and Enter/keypad Enter count.
 *
 * Record layouts (little-endian): 64-bit Linux, 24 bytes: tv_sec (8), tv_usec (8), type (2),
 * code (2), value (s32); 32-bit Linux, 16 bytes: tv_sec (4), tv_usec (4), type, code, value.
 * A 32-bit process reads the 16-byte layout even on a 64-bit kernel (evdev's compat path), so
 * the default follows the process's architecture, not the kernel's.
 *
 * A read is the keys between Enters. It is discarded (reported, never read) when it holds a key
 * no reader types, grows past maxChars, takes longer than maxReadMs by the kernel's timestamps
 * from its first key to its Enter (a person typing), stops for maxReadMs without its Enter (a
 * partial read: never joined to the next card's keys), or is not a uid of the configured form. Problems never carry the typed characters: they are the uid.
 */
import type { CardUidForm } from '@keymesh/protocol';

export type EventLayout = '64bit' | '32bit';
export const EVENT_BYTES: Record<EventLayout, number> = { '64bit': 24, '32bit': 16 };

/** The record layout of this process: 16 bytes on 32-bit architectures, else 24. */
export function defaultEventLayout(arch: string = process.arch): EventLayout {
  return ['arm', 'ia32', 'mips', 'mipsel', 'ppc'].includes(arch) ? '32bit' : '64bit';
}

const EV_KEY = 1;
const KEY_DOWN = 1;
const KEY_ENTER = 28;
const KEY_KPENTER = 96;
const SHIFTS = new Set([42, 54]); // KEY_LEFTSHIFT, KEY_RIGHTSHIFT
/** Linux keycodes (input-event-codes.h) → the character a reader means by them. */
const CHARS = new Map<number, string>([
  [2, '1'], [3, '2'], [4, '3'], [5, '4'], [6, '5'], [7, '6'], [8, '7'], [9, '8'], [10, '9'], [11, '0'],
  [79, '1'], [80, '2'], [81, '3'], [75, '4'], [76, '5'], [77, '6'], [71, '7'], [72, '8'], [73, '9'], [82, '0'],
  [30, 'a'], [48, 'b'], [46, 'c'], [32, 'd'], [18, 'e'], [33, 'f'],
]);

export type WedgeEvent = { kind: 'text'; text: string; form: CardUidForm } | { kind: 'error'; detail: string };

export interface KeyWedgeOptions {
  layout: EventLayout;
  form: 'decimal' | 'hex';
  /** A read whose Enter comes later than this after its first key is discarded. */
  maxReadMs: number;
  /** Longest read taken (a 32-byte uid in hex is 64 characters). */
  maxChars: number;
}

export class KeyWedgeDecoder {
  readonly opts: KeyWedgeOptions;
  #rest: Buffer = Buffer.alloc(0);
  #chars: string[] = [];
  #firstUs = 0;
  #lastUs = 0;
  #garbled: string | null = null;

  constructor(opts: KeyWedgeOptions) {
    this.opts = opts;
  }

  /** True while keys of an unfinished read are held. */
  get inRead(): boolean {
    return this.#chars.length > 0 || this.#garbled !== null;
  }

  /** Takes a chunk of the device's bytes (records may be split across chunks). */
  push(chunk: Uint8Array): WedgeEvent[] {
    const size = EVENT_BYTES[this.opts.layout];
    const buf = this.#rest.length ? Buffer.concat([this.#rest, chunk]) : Buffer.from(chunk);
    const out: WedgeEvent[] = [];
    let o = 0;
    for (; o + size <= buf.length; o += size) this.#record(buf, o, out);
    this.#rest = Buffer.from(buf.subarray(o));
    return out;
  }

  /** Drops an unfinished read (its Enter never came), reporting it. */
  abandon(): WedgeEvent[] {
    if (!this.inRead) return [];
    this.#reset();
    return [{ kind: 'error', detail: 'a read ended without Enter (a partial read, or keys typed on the reader\'s device)' }];
  }

  #record(buf: Buffer, o: number, out: WedgeEvent[]): void {
    const is64 = this.opts.layout === '64bit';
    const h = is64 ? 16 : 8;
    if (buf.readUInt16LE(o + h) !== EV_KEY || buf.readInt32LE(o + h + 4) !== KEY_DOWN) return;
    const code = buf.readUInt16LE(o + h + 2);
    const us = is64
      ? Number(buf.readBigInt64LE(o)) * 1e6 + Number(buf.readBigInt64LE(o + 8))
      : buf.readInt32LE(o) * 1e6 + buf.readInt32LE(o + 4);
    if (SHIFTS.has(code)) return;
    if (this.inRead && us - this.#lastUs > this.opts.maxReadMs * 1000) {
      // the keys held are a partial read that stopped: report it, and start afresh with this key
      out.push(...this.abandon());
    } else if (this.inRead && us - this.#firstUs > this.opts.maxReadMs * 1000) {
      // still typing but too slow: the whole read, up to its Enter, is discarded
      this.#garbled ??= `a read took longer than ${this.opts.maxReadMs} ms (keys typed by hand, or a broken read)`;
    }
    this.#lastUs = us;
    if (code === KEY_ENTER || code === KEY_KPENTER) {
      if (this.inRead) out.push(this.#finish());
      return;
    }
    if (!this.inRead) this.#firstUs = us;
    const ch = CHARS.get(code);
    if (ch === undefined) this.#garbled ??= 'a read holds a key that is not a digit or a hex letter';
    else if (this.#chars.length >= this.opts.maxChars) this.#garbled ??= `a read is longer than ${this.opts.maxChars} characters`;
    else this.#chars.push(ch);
  }

  #finish(): WedgeEvent {
    const garbled = this.#garbled;
    const text = this.#chars.join('');
    this.#reset();
    if (garbled !== null) return { kind: 'error', detail: garbled };
    return { kind: 'text', text, form: this.opts.form };
  }

  #reset(): void {
    this.#chars = [];
    this.#garbled = null;
  }
}

