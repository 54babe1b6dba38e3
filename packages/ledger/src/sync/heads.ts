/**
 * Feed heads, both ways (DESIGN §7): which signed heads this node still has to publish
 * (retained, only when they advanced), and which heads it heard say a feed is ahead. Only a
 * signed entry by a key with authority says so (DESIGN §3), or anyone could make a node ask for
 * entries that do not exist; a head of a key without authority yet (a node whose enrolment has
 * not arrived) waits, bounded, and is looked at again after each ingest.
 */
import { verifyEntry, type AnyEntry, type CryptoProvider } from '@keymesh/protocol';
import { MAX_PEERS, type Sources } from './sources.js';
import type { PubSubStore } from './store.js';

export class HeadBook {
  private readonly published = new Map<string, number>();
  private readonly deferred = new Map<string, AnyEntry>();

  constructor(private readonly store: PubSubStore, private readonly sources: Sources, private readonly crypto?: CryptoProvider) {}

  /** Signed heads of `authors` (every feed held when undefined) that advanced since last published. */
  toPublish(authors: readonly string[] | undefined): Array<{ author: string; line: string }> {
    const mine = this.store.heads();
    const out: Array<{ author: string; line: string }> = [];
    for (const author of authors ?? Object.keys(mine)) {
      const seq = mine[author] ?? 0;
      if (seq <= (this.published.get(author) ?? 0)) continue;
      const line = this.store.headOf(author);
      if (!line) continue;
      this.published.set(author, seq);
      out.push({ author, line });
    }
    return out;
  }

  /** Forgets what was published (a coordinator's start: the broker's retained messages are not the store). */
  forgetPublished(): void {
    this.published.clear();
  }

  /** Notes a heard entry as a feed's head; false when its signature does not verify. */
  heard(entry: AnyEntry): boolean {
    if (entry.seq <= (this.store.heads()[entry.author] ?? 0)) return true;
    if (!this.store.hasAuthority(entry.author)) {
      this.deferred.delete(entry.author);
      this.deferred.set(entry.author, entry);
      if (this.deferred.size > MAX_PEERS) this.deferred.delete(this.deferred.keys().next().value!);
      return true;
    }
    if (!verifyEntry(entry, this.crypto).ok) return false;
    this.sources.noteKnown(entry.author, entry.seq);
    return true;
  }

  /** After an ingest stored entries: heads of keys that gained authority now count. */
  recheck(): void {
    for (const [author, entry] of [...this.deferred]) {
      if (!this.store.hasAuthority(author)) continue;
      this.deferred.delete(author);
      this.heard(entry);
    }
  }
}
