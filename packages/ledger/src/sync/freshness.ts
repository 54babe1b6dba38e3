/**
 * "Rules confirmed fresh at" (DESIGN §6): the moment this replica last held every feed at least
 * as far as its coordinator's signed have said the coordinator held it. Persisted, so a reboot
 * does not make a high-risk machine stale; never moved back.
 */
import type { Heads } from '@keymesh/protocol';
import type { PubSubStore } from './store.js';

const NOTE = 'rulesFreshAt';

export class Freshness {
  /** The last complete signed have of each trusted coordinator (a site may run two). */
  private readonly claims = new Map<string, { heads: Heads; at: number }>();
  private at: number | null;

  constructor(private readonly store: PubSubStore) {
    const note = Number(store.readNote(NOTE));
    this.at = Number.isSafeInteger(note) && note > 0 ? note : null;
  }

  /** When the rules were last confirmed fresh (ms; null: never). */
  get freshAt(): number | null {
    return this.at;
  }

  /** A trusted coordinator's signed have: what it held at `at` (its clock). */
  noteCoordinator(from: string, heads: Heads, at: number): void {
    this.claims.delete(from);
    this.claims.set(from, { heads, at });
    if (this.claims.size > 16) this.claims.delete(this.claims.keys().next().value!);
    this.check();
  }

  /**
   * Confirms freshness if this replica now holds all that every coordinator heard claimed (after
   * each ingest): one that lags cannot vouch for rules another already holds past it.
   */
  check(): void {
    if (this.claims.size === 0) return;
    const mine = this.store.heads();
    let at = this.store.now(); // never later than this node's own time: a clock ahead cannot make rules "fresher"
    for (const claim of this.claims.values()) {
      for (const [author, seq] of Object.entries(claim.heads)) if ((mine[author] ?? 0) < seq) return;
      at = Math.min(at, claim.at || at);
    }
    if (this.at !== null && at <= this.at) return;
    this.at = at;
    this.store.writeNote(NOTE, String(at));
  }
}
