/**
 * Hybrid logical clock: wall-clock milliseconds plus a counter. It never goes backwards, even
 * when the Pi's clock does (no RTC, stale time at boot), and a remote stamp too far in the
 * future is refused rather than allowed to drag every clock forward (DESIGN §10).
 */
import { z } from 'zod';
import { ProtocolError } from './errors.js';

export const MAX_HLC_WALL = 2 ** 47; // ms; the year 6429
export const MAX_HLC_LOGICAL = 2 ** 31;
export const Hlc = z.strictObject({
  wall: z.number().int().nonnegative().max(MAX_HLC_WALL),
  logical: z.number().int().nonnegative().max(MAX_HLC_LOGICAL),
});
export type Hlc = z.infer<typeof Hlc>;

export function compareHlc(a: Hlc, b: Hlc): number {
  return a.wall - b.wall || a.logical - b.logical;
}

export const DEFAULT_MAX_DRIFT_MS = 5 * 60 * 1000;

/**
 * A counter past the schema's limit would make every later stamp one that peers refuse; the
 * clock moves its wall on by 1 ms instead (a remote stamp can push the counter, never past it).
 */
function bounded(wall: number, logical: number): Hlc {
  return logical > MAX_HLC_LOGICAL ? { wall: wall + 1, logical: 0 } : { wall, logical };
}

export class HybridClock {
  private last: Hlc;
  constructor(
    private readonly physical: () => number = () => Date.now(),
    readonly maxDriftMs: number = DEFAULT_MAX_DRIFT_MS,
    start: Hlc = { wall: 0, logical: 0 },
  ) {
    this.last = { ...start };
  }

  /** Stamp for a local event. */
  now(): Hlc {
    const pt = this.physical();
    this.last = pt > this.last.wall ? { wall: pt, logical: 0 } : bounded(this.last.wall, this.last.logical + 1);
    return { ...this.last };
  }

  /** Would `remote` be refused by `receive` (too far ahead of this machine's clock)? */
  isTooFarAhead(remote: Hlc): boolean {
    return remote.wall > this.physical() + this.maxDriftMs;
  }

  /** Merge a remote stamp; throws HLC_DRIFT if it is further ahead than maxDriftMs. */
  receive(remote: Hlc): Hlc {
    const pt = this.physical();
    if (remote.wall > pt + this.maxDriftMs) {
      throw new ProtocolError('HLC_DRIFT', `remote wall ${remote.wall} is ${remote.wall - pt} ms ahead of local time (limit ${this.maxDriftMs} ms); check the sender's clock (NTP)`);
    }
    const wall = Math.max(pt, this.last.wall, remote.wall);
    let logical: number;
    if (wall === this.last.wall && wall === remote.wall) logical = Math.max(this.last.logical, remote.logical) + 1;
    else if (wall === this.last.wall) logical = this.last.logical + 1;
    else if (wall === remote.wall) logical = remote.logical + 1;
    else logical = 0;
    this.last = bounded(wall, logical);
    return { ...this.last };
  }

  peek(): Hlc {
    return { ...this.last };
  }
}
