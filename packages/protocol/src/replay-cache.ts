/**
 * What a receiver remembers of signed one-shot messages (commands, login tokens) until they
 * expire, so none is acted on twice. Bounded: when full of messages still valid it refuses
 * new ones ('full') rather than forget one that could then be replayed; with `perOwner`, one
 * sender (one key) fills at most that many places, so a single key making tokens in a loop is
 * refused alone instead of locking everyone else out.
 *
 * It lives in memory. A receiver whose single act must survive a restart (a node acting on a
 * command: a reboot must not open a door again, DESIGN §7) saves `snapshot(now)` durably after
 * a message passes and before acting on it, and starts with `ReplayCache.restore(saved)`.
 *
 * It also keeps the latest time it was given (`floor`), saved with it: a message it forgot
 * had expired by then, so a receiver that judges expiry at no earlier time (verifyCommand)
 * cannot be made to accept it again by a clock that goes back (a Pi without a real-time clock
 * boots in the past).
 */
import { ProtocolError } from './errors.js';

export type ReplayCheck = 'fresh' | 'replayed' | 'full';

/** What `snapshot` returns and `restore` takes: the floor, and [id, the time after which it is forgotten, owner or null]. */
export interface ReplaySnapshot {
  floor: number;
  entries: Array<[string, number, string | null]>;
}

const MAX_ID_CHARS = 512;

export class ReplayCache {
  /** id → the time (ms) after which the message is refused anyway and can be forgotten, and its owner. */
  private readonly until = new Map<string, { t: number; owner: string | null }>();
  private readonly owned = new Map<string, number>();
  private latest = 0;
  /** No entry expires before this (a lower bound): a sweep before then would find nothing. */
  private nextExpiry = Infinity;
  private sweepCount = 0;

  constructor(readonly capacity = 4096, readonly perOwner = capacity) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    if (!Number.isSafeInteger(perOwner) || perOwner < 1) throw new RangeError('perOwner must be a positive integer');
  }

  /**
   * Records `id` (valid until `expiresAt`, sent by `owner` if given) if it was not seen; says
   * whether it was. 'full': the cache, or the owner's share of it, holds only valid messages.
   */
  check(id: string, expiresAt: number, now: number, owner?: string): ReplayCheck {
    this.note(now);
    const known = this.until.get(id);
    if (known !== undefined && known.t >= now) return 'replayed';
    if (known !== undefined) this.forget(id);
    const mine = () => (owner === undefined ? 0 : this.owned.get(owner) ?? 0);
    if (this.until.size >= this.capacity || mine() >= this.perOwner) {
      this.prune(now);
      if (this.until.size >= this.capacity || mine() >= this.perOwner) return 'full';
    }
    this.record(id, expiresAt, owner ?? null);
    return 'fresh';
  }

  /**
   * How many times the cache was swept for expired entries. A sweep happens only once
   * something has expired, so a sender refused as 'full' again and again costs no sweeps.
   */
  get sweeps(): number {
    return this.sweepCount;
  }

  /** Has `id` been recorded and not yet expired at `now`? */
  has(id: string, now: number): boolean {
    const known = this.until.get(id);
    return known !== undefined && known.t >= now;
  }

  /** The latest time this cache was given: judge a message's expiry at no earlier time. */
  get floor(): number {
    return this.latest;
  }

  private note(now: number): void {
    if (now > this.latest) this.latest = now;
  }

  get size(): number {
    return this.until.size;
  }

  /** Forgets what has expired by `now`. */
  prune(now: number): void {
    this.note(now);
    if (!(this.nextExpiry < now)) return;
    this.sweepCount++;
    let next = Infinity;
    for (const [id, k] of this.until) {
      if (k.t < now) this.forget(id);
      else if (k.t < next) next = k.t;
    }
    this.nextExpiry = next;
  }

  /** The floor and what is still valid at it, to save durably (JSON-safe). */
  snapshot(now: number): ReplaySnapshot {
    this.note(now);
    now = this.latest;
    const entries: ReplaySnapshot['entries'] = [];
    for (const [id, k] of this.until) if (k.t >= now) entries.push([id, k.t, k.owner]);
    return { floor: now, entries };
  }

  /**
   * A cache holding what `snapshot` saved (read back from a file: checked, never trusted).
   * Throws SCHEMA for anything else, or for more entries than `capacity`.
   */
  static restore(saved: unknown, capacity = 4096, perOwner = capacity): ReplayCache {
    const cache = new ReplayCache(capacity, perOwner);
    const s = saved as Partial<ReplaySnapshot> | null;
    if (typeof s !== 'object' || s === null || !Number.isSafeInteger(s.floor) || s.floor! < 0 || !Array.isArray(s.entries) || Object.keys(s).length !== 2) {
      throw new ProtocolError('SCHEMA', 'a saved replay cache is { floor, entries: [[id, until, owner]] }; the file is damaged: delete it only once no command or token seen before it was written can still be valid');
    }
    cache.latest = s.floor!;
    const list = s.entries;
    if (list.length > capacity) throw new ProtocolError('SCHEMA', `the saved replay cache holds ${list.length} entries; this cache holds at most ${capacity}`);
    for (const item of list) {
      const ok = Array.isArray(item) && item.length === 3 && typeof item[0] === 'string' && item[0].length > 0 && item[0].length <= MAX_ID_CHARS
        && Number.isSafeInteger(item[1]) && (item[2] === null || (typeof item[2] === 'string' && item[2].length <= MAX_ID_CHARS));
      if (!ok) throw new ProtocolError('SCHEMA', 'a saved replay cache entry is [id, until (integer ms), owner or null]');
      cache.forget(item[0] as string);
      cache.record(item[0] as string, item[1] as number, item[2] as string | null);
    }
    return cache;
  }

  private record(id: string, t: number, owner: string | null): void {
    this.until.set(id, { t, owner });
    if (t < this.nextExpiry) this.nextExpiry = t;
    if (owner !== null) this.owned.set(owner, (this.owned.get(owner) ?? 0) + 1);
  }

  private forget(id: string): void {
    const k = this.until.get(id);
    if (!k) return;
    this.until.delete(id);
    if (k.owner === null) return;
    const n = (this.owned.get(k.owner) ?? 1) - 1;
    if (n > 0) this.owned.set(k.owner, n);
    else this.owned.delete(k.owner);
  }
}
