/**
 * From a reader's read to a controller's tap: the uid becomes its card reference here, first
 * (DESIGN §3: nothing past this line sees a uid), then the tap filter (controllers/tap-filter.ts)
 * drops repeats of a held badge and rate-limits unknown cards. A reader's errors (bad checksum,
 * wrong parity) are counted and logged without their bytes.
 */
import type { CardUid } from '@keymesh/protocol';
import type { TapSettings } from '../controllers/settings.js';
import { TapFilter } from '../controllers/tap-filter.js';
import type { Reader } from '../drivers/types.js';
import type { Logger } from '../log.js';

export interface TapsOptions {
  reader: Reader;
  settings: TapSettings;
  toRef: (uid: CardUid) => string;
  known: (ref: string) => boolean;
  tap: (ref: string) => void;
  log: Logger;
}

/** Reader errors are logged at most this often (a noisy line would fill the journal). */
const ERROR_LOG_EVERY_MS = 10_000;

export class Taps {
  private readonly filter: TapFilter;
  private readonly off: Array<() => void> = [];
  private errors = 0;
  private lastErrorLog = 0;
  /** When the last rate-limit summary was logged (read time): a storm is one line per ERROR_LOG_EVERY_MS, not one per phantom. */
  private lastDropLog: number | null = null;

  constructor(private readonly o: TapsOptions) {
    this.filter = new TapFilter({ ...o.settings, known: o.known });
    this.off.push(o.reader.onRead((uid, at) => this.read(uid, at)));
    this.off.push(o.reader.onError((err) => this.readError(err)));
  }

  /** A read: returns what happened to it (for the sim panel and tests). */
  read(uid: CardUid, at: number): 'tap' | 'repeat' | 'unknown_repeat' | 'rate_limited' {
    let ref: string;
    try {
      ref = this.o.toRef(uid);
    } catch {
      // A driver that hands over a non-canonical uid must not throw into its own data handler (that ends the agent).
      this.readError(new Error('the reader reported a card number that is not canonical hex (a driver bug)'));
      return 'rate_limited';
    }
    const v = this.filter.accept(ref, at);
    if (!v.pass) {
      if (v.why === 'rate_limited' && (this.lastDropLog === null || at - this.lastDropLog >= ERROR_LOG_EVERY_MS || at < this.lastDropLog)) {
        this.lastDropLog = at;
        this.o.log.warn({ ev: 'unknown-rate-limited', dropped: this.filter.takeDropped() }, 'unknown cards dropped by the rate limit (a reader without a common ground reads phantom cards)');
      }
      return v.why;
    }
    try {
      this.o.tap(ref);
    } catch (err) {
      this.o.log.error({ ev: 'tap-failed', card: ref.slice(0, 8), err: (err as Error).message }, 'a tap failed');
    }
    return 'tap';
  }

  private readError(err: Error): void {
    this.errors++;
    const now = Date.now();
    if (now - this.lastErrorLog < ERROR_LOG_EVERY_MS) return;
    this.lastErrorLog = now;
    this.o.log.warn({ ev: 'read-error', reason: err.message, count: this.errors }, 'reader sent something that is not a card');
  }

  stop(): void {
    for (const f of this.off.splice(0)) f();
  }
}
