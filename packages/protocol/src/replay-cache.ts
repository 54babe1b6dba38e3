/**
 * What a receiver remembers of signed one-shot messages (commands, login tokens) until they
 * expire, so none is acted on twice. Bounded: when full of messages still valid it refuses
 * new ones ('full') rather than forget one that could then be replayed. The caller keeps one
 * per receiver; it lives in memory, so a message's own expiry is what bounds a replay after a
 * restart.
 */
export type ReplayCheck = 'fresh' | 'replayed' | 'full';

export class ReplayCache {
  /** id → the time (ms) after which the message is refused anyway and can be forgotten. */
  private readonly until = new Map<string, number>();

  constructor(readonly capacity = 4096) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  /** Records `id` (valid until `expiresAt`) if it was not seen; says whether it was. */
  check(id: string, expiresAt: number, now: number): ReplayCheck {
    const known = this.until.get(id);
    if (known !== undefined && known >= now) return 'replayed';
    if (known === undefined && this.until.size >= this.capacity) {
      this.prune(now);
      if (this.until.size >= this.capacity) return 'full';
    }
    this.until.set(id, expiresAt);
    return 'fresh';
  }

  /** Has `id` been recorded and not yet expired at `now`? */
  has(id: string, now: number): boolean {
    const known = this.until.get(id);
    return known !== undefined && known >= now;
  }

  get size(): number {
    return this.until.size;
  }

  /** Forgets what has expired by `now`. */
  prune(now: number): void {
    for (const [id, t] of this.until) if (t < now) this.until.delete(id);
  }
}
