/**
 * Wiegand 26 and 34 decoding from timestamped edges of the two data lines (pure: edges in,
 * uids and problems out; the driver feeds it and ends frames on a timer).
 *
 * Both lines idle high; each bit is a short low pulse (20-100 µs typically, 1-2 ms apart): a
 * falling edge on D0 is a 0, on D1 a 1. A frame ends after `gapMs` without edges.
 * - 26 bits: P(1) facility(8) number(16) P(1). Bit 0 makes bits 0-12 even (even parity over
 *   bits 1-12), bit 25 makes bits 13-25 odd (odd parity over bits 13-24). The uid is
 *   facility,number in card-ref's 'facility' form: 3 bytes, as the fob's print "123,45678".
 * - 34 bits: P(1) data(32) P(1). Bit 0 even parity over bits 1-16, bit 33 odd parity over bits
 *   17-32. The uid is the 32 data bits as 4 bytes of hex: for the EM4100 fobs such readers read,
 *   the same uid as a serial reader's (version byte dropped) and a wedge reader's 10-digit
 *   decimal, so one fob gives one card reference across reader kinds.
 * Refused, reported and never read: a frame whose length is not a configured one (a missing
 * bit, phantom noise from a missing common ground), wrong parity, both lines low at once, and
 * pulses shorter than `minPulseUs` (interference). Problems never carry the bits.
 */
import { normaliseCardUid, type CardUid } from '@keymesh/protocol';

export type WiegandBits = 26 | 34;

export interface WiegandOptions {
  /** The frame lengths taken. */
  formats: readonly WiegandBits[];
  /** A frame ends after this long without an edge (ms). */
  gapMs: number;
  /** A low pulse shorter than this is a glitch (µs); checked only when rising edges are reported. */
  minPulseUs: number;
  /** A line counts as low this long after its falling edge when its rising edge is not reported (µs). */
  maxPulseUs: number;
}

export type WiegandEvent = { kind: 'uid'; uid: CardUid; bits: WiegandBits } | { kind: 'error'; detail: string };

/** Longest frame kept; anything longer is noise and only its length is counted. */
const MAX_BITS = 64;

export function parityOk(bits: readonly number[]): boolean {
  const n = bits.length;
  const half = (n - 2) / 2;
  let even = 0;
  let odd = 0;
  for (let i = 0; i <= half; i++) even += bits[i]!;
  for (let i = half + 1; i < n; i++) odd += bits[i]!;
  return even % 2 === 0 && odd % 2 === 1;
}

function value(bits: readonly number[], from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 2 + bits[i]!;
  return v;
}

/** The uid of a whole frame, or what is wrong with it. */
export function decodeWiegandFrame(bits: readonly number[], formats: readonly WiegandBits[]): WiegandEvent {
  const n = bits.length;
  if (!(formats as readonly number[]).includes(n)) {
    return {
      kind: 'error',
      detail: `a Wiegand frame of ${n > MAX_BITS ? `over ${MAX_BITS}` : n} bits; this reader takes ${formats.join(' or ')} (a missing bit, a reader set to another format, or noise: check the common ground)`,
    };
  }
  if (!parityOk(bits)) return { kind: 'error', detail: `a Wiegand ${n} frame with wrong parity (a misread bit)` };
  if (n === 26) {
    return { kind: 'uid', bits: 26, uid: normaliseCardUid(`${value(bits, 1, 9)},${value(bits, 9, 25)}`, 'facility') };
  }
  return { kind: 'uid', bits: 34, uid: normaliseCardUid(value(bits, 1, 33).toString(16).padStart(8, '0'), 'hex') };
}

export class WiegandDecoder {
  readonly opts: WiegandOptions;
  #bits: number[] = [];
  #count = 0;
  #glitch: string | null = null;
  #lastUs = 0;
  /** When each line fell and has not yet risen (µs), or null while high. */
  #lowSince: [number | null, number | null] = [null, null];

  constructor(opts: WiegandOptions) {
    this.opts = opts;
  }

  /** True while a frame has begun and not ended. */
  get inFrame(): boolean {
    return this.#count > 0 || this.#glitch !== null;
  }

  /**
   * One edge: `line` 0 is D0, 1 is D1; `atUs` the edge's time (µs, any origin, increasing).
   * Ends the previous frame first if the gap since its last edge has passed.
   */
  edge(line: 0 | 1, rising: boolean, atUs: number): WiegandEvent[] {
    const out = this.inFrame && atUs - this.#lastUs > this.opts.gapMs * 1000 ? this.end() : [];
    this.#lastUs = atUs;
    const other = line === 0 ? 1 : 0;
    const otherFell = this.#lowSince[other];
    if (otherFell !== null && atUs - otherFell > this.opts.maxPulseUs) this.#lowSince[other] = null;
    if (rising) {
      const fell = this.#lowSince[line];
      if (fell !== null && atUs - fell < this.opts.minPulseUs) this.#glitch ??= 'a pulse too short on the Wiegand lines (interference)';
      this.#lowSince[line] = null;
      return out;
    }
    if (this.#lowSince[other] !== null) this.#glitch ??= 'both Wiegand lines low at once (crossed wires, interference or a missing ground)';
    this.#lowSince[line] = atUs;
    this.#count++;
    if (this.#bits.length < MAX_BITS + 1) this.#bits.push(line);
    return out;
  }

  /** Ends the frame in progress (the driver calls it `gapMs` after the last edge). */
  end(): WiegandEvent[] {
    if (!this.inFrame) return [];
    const glitch = this.#glitch;
    const bits = this.#bits;
    this.#bits = [];
    this.#count = 0;
    this.#glitch = null;
    this.#lowSince = [null, null];
    if (glitch !== null) return [{ kind: 'error', detail: glitch }];
    return [decodeWiegandFrame(bits, this.opts.formats)];
  }
}
