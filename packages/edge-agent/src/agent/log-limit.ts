/**
 * A bound on log lines a peer can cause. Anyone on the broker can send junk on the topics an
 * edge reads (DESIGN §7: each bad payload is logged and dropped); one line per message would let
 * a flood fill a Pi's volatile journal and push out what matters. At most `burst` lines per
 * `everyMs`; the rest are counted, and the next line that is written says how many were not.
 */
export class LogLimit {
  private windowStart = Number.NEGATIVE_INFINITY;
  private inWindow = 0;
  private suppressed = 0;

  constructor(private readonly burst = 10, private readonly everyMs = 10_000, private readonly now: () => number = Date.now) {}

  /** null: drop this line; else write it, with this many lines dropped since the last one. */
  take(): number | null {
    const t = this.now();
    if (t - this.windowStart >= this.everyMs || t < this.windowStart) {
      this.windowStart = t;
      this.inWindow = 0;
    }
    if (this.inWindow >= this.burst) {
      this.suppressed++;
      return null;
    }
    this.inWindow++;
    const s = this.suppressed;
    this.suppressed = 0;
    return s;
  }
}
