/**
 * "Rules confirmed fresh at" (DESIGN §6): the moment this replica last held every feed at least
 * as far as its coordinator's signed have said the coordinator held it. Persisted, so a reboot
 * does not make a high-risk machine stale; never moved back.
 */
import type { Heads } from '@keymesh/protocol';
import type { PubSubStore } from './store.js';

const NOTE = 'rulesFreshAt';

export class Freshness {
  private claim: { heads: Heads; at: number } | undefined;
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
  noteCoordinator(heads: Heads, at: number): void {
    this.claim = { heads, at };
    this.check();
  }

  /** Confirms freshness if this replica now holds all the coordinator claimed (after each ingest). */
  check(): void {
    const claim = this.claim;
    if (!claim) return;
    const mine = this.store.heads();
    for (const [author, seq] of Object.entries(claim.heads)) if ((mine[author] ?? 0) < seq) return;
    // Never later than this node's own time: a coordinator clock ahead cannot make rules "fresher".
    const at = Math.min(claim.at || Number.MAX_SAFE_INTEGER, this.store.now());
    if (this.at !== null && at <= this.at) return;
    this.at = at;
    this.store.writeNote(NOTE, String(at));
  }
}
