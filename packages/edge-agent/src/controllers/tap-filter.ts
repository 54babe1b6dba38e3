/**
 * One reader's filter between reads and taps. The agent turns a uid into its card reference
 * first (DESIGN §3), then asks `accept(ref, atMs)`; only a passed read reaches a controller.
 *
 * - A known card read again within `tapRepeatMs` of its previous read is the same tap: a badge
 *   held on a reader reads many times, and the window slides with each read.
 * - An unknown card is passed on once per `unknownRepeatMs` (so it is logged once and an admin
 *   can enrol it by tapping it); repeats are dropped.
 * - Distinct unknown cards share a per-reader budget (a token bucket: `unknownBurst`, then one
 *   per `unknownIntervalMs`): a reader with a missing ground spams phantom codes, each one
 *   "new". A card the budget drops is not remembered, so tapping it again later passes.
 *
 * Memory is bounded: at most `unknownMemory` unknown refs and as many known ones.
 */
import { TapSettings } from './settings.js';

export type TapVerdict =
  | { pass: true; known: boolean }
  | { pass: false; why: 'repeat' | 'unknown_repeat' | 'rate_limited' };

export interface TapFilterOptions extends Partial<TapSettings> {
  /** Does the local replica know this card reference? */
  known(ref: string): boolean;
}

export class TapFilter {
  private readonly settings: TapSettings;
  /** ref → last read (ms); insertion order is age order (re-inserted on each read). */
  private readonly lastKnown = new Map<string, number>();
  private readonly lastUnknown = new Map<string, number>();
  private tokens: number;
  private refilledAt: number | null = null;
  /** Reads dropped by the rate limit since the last `takeDropped()` (for one log line, not one per phantom). */
  private dropped = 0;

  constructor(private readonly opts: TapFilterOptions) {
    const { known: _known, ...rest } = opts;
    this.settings = TapSettings.parse(rest);
    this.tokens = this.settings.unknownBurst;
  }

  accept(ref: string, atMs: number): TapVerdict {
    if (this.opts.known(ref)) {
      const prev = this.lastKnown.get(ref);
      remember(this.lastKnown, ref, atMs, this.settings.unknownMemory);
      if (prev !== undefined && atMs - prev < this.settings.tapRepeatMs) return { pass: false, why: 'repeat' };
      return { pass: true, known: true };
    }
    const prev = this.lastUnknown.get(ref);
    if (prev !== undefined && atMs - prev < this.settings.unknownRepeatMs) {
      // A held unknown badge keeps reading: it stays one event until it is left alone.
      remember(this.lastUnknown, ref, atMs, this.settings.unknownMemory);
      return { pass: false, why: 'unknown_repeat' };
    }
    this.refill(atMs);
    if (this.tokens < 1) {
      this.dropped++;
      return { pass: false, why: 'rate_limited' };
    }
    this.tokens--;
    remember(this.lastUnknown, ref, atMs, this.settings.unknownMemory);
    return { pass: true, known: false };
  }

  /** How many unknown reads the rate limit dropped since the last call (then resets). */
  takeDropped(): number {
    const n = this.dropped;
    this.dropped = 0;
    return n;
  }

  private refill(atMs: number): void {
    if (this.refilledAt === null || atMs < this.refilledAt) {
      // First read, or the clock went back: restart the interval from here, with no bonus.
      this.refilledAt = atMs;
      return;
    }
    const earned = Math.floor((atMs - this.refilledAt) / this.settings.unknownIntervalMs);
    if (earned > 0) {
      this.tokens = Math.min(this.settings.unknownBurst, this.tokens + earned);
      this.refilledAt += earned * this.settings.unknownIntervalMs;
    }
    if (this.tokens === this.settings.unknownBurst) this.refilledAt = atMs;
  }
}

function remember(map: Map<string, number>, ref: string, atMs: number, cap: number): void {
  map.delete(ref);
  map.set(ref, atMs);
  if (map.size > cap) map.delete(map.keys().next().value!);
}
