/**
 * Framing of the 125 kHz EM4100 serial readers (pure: bytes in, uids and problems out).
 *
 * RDM6300: STX(0x02), 10 ASCII hex data, 2 ASCII hex checksum, ETX(0x03): 14 bytes.
 * ID-12LA (ASCII output): STX, 10 ASCII hex data, 2 ASCII hex checksum, CR, LF, ETX: 16 bytes.
 * The 10 data characters are 5 bytes: a version (customer) byte, then the card's 4 data bytes;
 * the checksum is the XOR of the 5 bytes. The uid is the 4 data bytes in hex (the version byte
 * dropped, as card-ref.ts says): the same 32-bit number a keyboard-wedge reader types in decimal
 * and the fob has printed on it, so one fob gives one card reference on every reader kind.
 *
 * Resync: bytes outside a frame (noise at power-up, a half frame when the port opened) are
 * dropped quietly; an STX inside a frame starts a new frame and reports the cut one; a frame
 * longer than its framing is dropped. Problems never carry the frame's bytes (they are the uid).
 */
import { normaliseCardUid, type CardUid } from '@keymesh/protocol';

export type SerialFraming = 'rdm6300' | 'id12la';

export type FrameEvent = { kind: 'uid'; uid: CardUid } | { kind: 'error'; detail: string };

const STX = 0x02;
const ETX = 0x03;
const CR = 0x0d;
const LF = 0x0a;

/** Bytes between STX and ETX: 12 characters, plus CR LF for the ID-12LA. */
const BODY_BYTES: Record<SerialFraming, number> = { rdm6300: 12, id12la: 14 };

/** A frame takes ~15 ms at 9600 baud; one still open after this is a fragment. */
export const DEFAULT_MAX_FRAME_MS = 200;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** The uid of one frame's body (between STX and ETX), or what is wrong with it. */
export function decodeFrameBody(framing: SerialFraming, body: readonly number[]): FrameEvent {
  if (body.length !== BODY_BYTES[framing]) {
    return { kind: 'error', detail: `${framing} frame of the wrong length (${body.length + 2} bytes, expected ${BODY_BYTES[framing] + 2})` };
  }
  if (framing === 'id12la' && (body[12] !== CR || body[13] !== LF)) {
    return { kind: 'error', detail: 'id12la frame without CR LF before ETX (is the reader set to ASCII output?)' };
  }
  const bytes: number[] = [];
  for (let i = 0; i < 12; i += 2) {
    const hi = hexValue(body[i]!);
    const lo = hexValue(body[i + 1]!);
    if (hi < 0 || lo < 0) return { kind: 'error', detail: `${framing} frame holds characters that are not hex (noise, or the wrong baud rate)` };
    bytes.push(hi * 16 + lo);
  }
  const sum = bytes.slice(0, 5).reduce((a, b) => a ^ b, 0);
  if (sum !== bytes[5]) return { kind: 'error', detail: `${framing} frame has a bad checksum (noise on the line, or a card moved off mid-read)` };
  const hex = bytes.slice(1, 5).map((b) => b.toString(16).padStart(2, '0')).join('');
  return { kind: 'uid', uid: normaliseCardUid(hex, 'hex') };
}

/** Cuts a serial byte stream into frames; feed it what the port delivers, in order. */
export class FrameParser {
  readonly framing: SerialFraming;
  readonly maxFrameMs: number;
  #body: number[] | null = null;
  #startedMs = 0;

  constructor(framing: SerialFraming, maxFrameMs = DEFAULT_MAX_FRAME_MS) {
    this.framing = framing;
    this.maxFrameMs = maxFrameMs;
  }

  /** True while a frame has begun and not ended (the driver arms its timeout on it). */
  get inFrame(): boolean {
    return this.#body !== null;
  }

  /** Drops a frame begun more than maxFrameMs before `atMs`, reporting it. */
  expire(atMs: number): FrameEvent[] {
    if (this.#body === null || atMs - this.#startedMs <= this.maxFrameMs) return [];
    this.#body = null;
    return [{ kind: 'error', detail: `${this.framing} frame not finished within ${this.maxFrameMs} ms (a fragment)` }];
  }

  push(chunk: Uint8Array, atMs: number): FrameEvent[] {
    const out = this.expire(atMs);
    for (const b of chunk) {
      if (this.#body === null) {
        if (b === STX) this.#start(atMs);
        continue; // noise outside a frame
      }
      if (b === STX) {
        out.push({ kind: 'error', detail: `${this.framing} frame cut short by the next frame` });
        this.#start(atMs);
      } else if (b === ETX) {
        out.push(decodeFrameBody(this.framing, this.#body));
        this.#body = null;
      } else if (this.#body.length >= BODY_BYTES[this.framing]) {
        out.push({ kind: 'error', detail: `${this.framing} frame longer than its framing (noise, or the wrong reader type in config)` });
        this.#body = null;
      } else {
        this.#body.push(b);
      }
    }
    return out;
  }

  #start(atMs: number): void {
    this.#body = [];
    this.#startedMs = atMs;
  }
}
