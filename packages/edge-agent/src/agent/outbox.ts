/**
 * Entries this node appended wait here for the next turn of the event loop, then are made
 * durable (one fsync for all of them) and published: the tap that made them has already moved
 * its relay, and a burst of taps shares one fsync. Offline, nothing is sent: the feed itself is
 * the outbox (DESIGN §7), and sync sends what the coordinator lacks when it returns.
 */
import type { AnyEntry } from '@keymesh/protocol';
import type { PubSubSync } from '@keymesh/ledger';

export class Outbox {
  private queued: AnyEntry[] = [];
  private scheduled = false;

  constructor(private readonly sync: () => PubSubSync | null, private readonly connected: () => boolean, private readonly onError: (err: unknown) => void) {}

  add(entries: readonly AnyEntry[]): void {
    for (const e of entries) this.queued.push(e);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.send());
  }

  send(): void {
    this.scheduled = false;
    const batch = this.queued;
    this.queued = [];
    const sync = this.sync();
    if (!sync || !this.connected() || batch.length === 0) return;
    try {
      sync.publishEntries(batch);
    } catch (err) {
      this.onError(err);
    }
  }
}
