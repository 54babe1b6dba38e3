/**
 * A per-client message rate: a token bucket (`perSecond` tokens a second, at most `burst`
 * saved). One publish takes one token. The embedded broker disconnects a client whose bucket
 * is empty rather than drop its messages silently: MQTT 3.1.1 has no way to say "slow down",
 * a QoS 1 message dropped after its PUBACK would be lost without the sender knowing, and a
 * client that floods is broken or hostile either way. It reconnects with a new token, and the
 * log says why it was cut.
 */
export interface RateOptions {
  perSecond: number;
  burst: number;
}

/** Generous: 10 nodes publishing 2,000 entries a second each pass (DESIGN §12), a flood does not. */
export const DEFAULT_RATE: RateOptions = { perSecond: 5_000, burst: 20_000 };

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private readonly rate: RateOptions, now: number) {
    if (!(rate.perSecond > 0) || !(rate.burst >= 1)) throw new RangeError(`rate: perSecond must be > 0 and burst >= 1 (got ${rate.perSecond}, ${rate.burst})`);
    this.tokens = rate.burst;
    this.last = now;
  }

  /** Takes one token; false when none is left. A clock that goes back refills nothing. */
  take(now: number): boolean {
    if (now > this.last) {
      this.tokens = Math.min(this.rate.burst, this.tokens + ((now - this.last) * this.rate.perSecond) / 1000);
      this.last = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
