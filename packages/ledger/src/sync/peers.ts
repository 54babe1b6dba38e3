/**
 * What this node takes from which peer (DESIGN §3: nobody is trusted by position). Rounds are
 * the sync's ticks. Without the broker's ACL in front, any client could publish, so:
 * - haves and wants count only from keys with authority on the site (`open`: from anyone, for
 *   tests of bare replicas), and a replica holding nothing yet takes haves from anyone, to find
 *   the genesis;
 * - a have older than the last one heard from its peer is a replay (or a reordering) and ignored;
 * - a peer gets at most MAX_WANTS_A_ROUND wants answered, and fork proofs once, a round: a want
 *   repeated as each answer ends would otherwise make one small message a large send, again;
 * - batches are taken only from peers this node asked within the last two rounds: unasked
 *   batches (junk by an enrolled node) would fill the intake and starve the answers it awaits.
 */
import { MAX_PEERS } from './sources.js';
import type { PubSubStore } from './store.js';

export const MAX_WANTS_A_ROUND = 64;

export class PeerGate {
  private round = 0;
  private readonly lastHaveAt = new Map<string, number>();
  private readonly wants = new Map<string, number>();
  private readonly proved = new Set<string>();
  private readonly askedOf = new Map<string, number>();

  constructor(private readonly store: PubSubStore, private readonly open: boolean) {}

  nextRound(): void {
    this.round++;
    this.wants.clear();
    this.proved.clear();
    for (const [peer, r] of this.askedOf) if (r < this.round - 2) this.askedOf.delete(peer);
  }

  private known(peer: string): boolean {
    return this.open || this.store.hasAuthority(peer);
  }

  /** A have from `peer` stamped `at`: counts if the peer may speak and it is newer than the last. */
  takeHave(peer: string, at: number | undefined): boolean {
    if (!this.known(peer) && Object.keys(this.store.heads()).length > 0) return false;
    const last = this.lastHaveAt.get(peer);
    if (at === undefined || (last !== undefined && at < last)) return false; // the same one again is harmless
    this.lastHaveAt.delete(peer);
    this.lastHaveAt.set(peer, at);
    if (this.lastHaveAt.size > MAX_PEERS) this.lastHaveAt.delete(this.lastHaveAt.keys().next().value!);
    return true;
  }

  /** A want from `peer`: answered if it may ask and has asked less than its share this round. */
  takeWant(peer: string): boolean {
    if (!this.known(peer)) return false;
    const n = (this.wants.get(peer) ?? 0) + 1;
    if (n > MAX_WANTS_A_ROUND || (n === 1 && this.wants.size >= MAX_PEERS)) return false;
    this.wants.set(peer, n);
    return true;
  }

  /** Fork proofs for `peer`: once a round. */
  takeProofRequest(peer: string): boolean {
    if (this.proved.has(peer)) return false;
    this.proved.add(peer);
    return true;
  }

  asked(peer: string): void {
    this.askedOf.delete(peer);
    this.askedOf.set(peer, this.round);
    if (this.askedOf.size > MAX_PEERS) this.askedOf.delete(this.askedOf.keys().next().value!);
  }

  takeBatch(peer: string): boolean {
    return (this.askedOf.get(peer) ?? -Infinity) >= this.round - 2;
  }
}
