/**
 * Whom to ask for what (DESIGN §7: wants name their addressee). What peers claim to hold comes
 * from their `have`s and the signed heads seen on `head/<author>`; a claim only decides whom to
 * ask, never what this replica believes (DESIGN §3). One outstanding ask per feed until the
 * next round (`expire`, each tick); then it is asked again where it stands, of the next
 * candidate if it brought nothing, so a peer that went away (or lied) costs a round, not a feed.
 */
import type { Heads, SeqRange } from '@keymesh/protocol';
import { INTAKE_MAX_LINES } from './intake.js';

/** Feeds of one peer's claim that count (a site has tens of feeds; a thousand is far past any). */
export const MAX_CLAIMED_FEEDS = 1024;
/** Most entries one want asks of a feed, and of one peer in all, until they arrive (intake.ts' share is 5,000). */
export const MAX_ASK = 2000;
export const MAX_ASKED_A_PEER = 4000;
/** Entries asked of all peers together and not yet arrived: half of what the intake holds, so answers from many peers at once are not dropped. */
export const MAX_ASKED_IN_ALL = INTAKE_MAX_LINES / 2;
/** Peers whose claims are kept (the least recently heard go first). */
export const MAX_PEERS = 256;

interface Ask { to: string; upTo: number; held: number }

export class Sources {
  private readonly claims = new Map<string, { heads: Heads; at: number }>();
  /** author → highest seq seen in a signed head or live entry. */
  private readonly known = new Map<string, number>();
  private readonly asked = new Map<string, Ask>();
  /** author → rounds in a row its ask brought nothing (picks the next candidate). */
  private readonly failures = new Map<string, number>();

  constructor(private readonly self: string, private readonly upstream: readonly string[], private readonly staleMs: number) {}

  /**
   * Ends the round. An ask that brought nothing may be made again, of the next candidate. One
   * still arriving keeps waiting for its rest: asked again now, what is already on its way
   * (in the broker, or queued to be stored) would come twice and overflow the intake.
   */
  expire(mine: Heads): void {
    for (const [author, ask] of this.asked) {
      const held = mine[author] ?? 0;
      if (held > ask.held && held < ask.upTo) {
        ask.held = held;
        this.failures.delete(author);
        continue;
      }
      if (held <= ask.held) this.failures.set(author, (this.failures.get(author) ?? 0) + 1);
      else this.failures.delete(author);
      this.asked.delete(author);
    }
  }

  /**
   * Records a peer's claim. At most MAX_CLAIMED_FEEDS feeds of it count, those this replica
   * holds first: a have may name 100,000 invented feeds, and each would cost a want a round.
   */
  noteClaim(node: string, heads: Heads, at: number, held: Heads): void {
    const names = Object.keys(heads);
    if (names.length > MAX_CLAIMED_FEEDS) {
      const kept: Heads = {};
      const order = [...names.filter((a) => a in held), ...names.filter((a) => !(a in held))].slice(0, MAX_CLAIMED_FEEDS);
      for (const a of order) kept[a] = heads[a]!;
      heads = kept;
    }
    this.claims.delete(node); // re-inserted last: the least recently heard is evicted first
    this.claims.set(node, { heads, at });
    if (this.claims.size > MAX_PEERS) this.claims.delete(this.claims.keys().next().value!);
  }

  noteKnown(author: string, seq: number): void {
    if (seq > (this.known.get(author) ?? 0)) this.known.set(author, seq);
  }

  /** Forgets a peer's claims (it went offline: its retained status said so, or it stayed silent). */
  forget(node: string): void {
    this.claims.delete(node);
  }

  /**
   * Entries this replica knows it lacks (the status' sync lag): shown by signed entries, or
   * claimed by its upstream. Other peers' claims decide whom to ask, never what is reported.
   */
  lag(mine: Heads): number {
    const best = new Map(this.known);
    for (const u of this.upstream) for (const [a, s] of Object.entries(this.claims.get(u)?.heads ?? {})) if (s > (best.get(a) ?? 0)) best.set(a, s);
    let n = 0;
    for (const [author, seq] of best) n += Math.max(0, seq - (mine[author] ?? 0));
    return n;
  }

  /** The wants to send now, grouped by addressee. */
  plan(mine: Heads, now: number): Map<string, SeqRange[]> {
    for (const [node, c] of this.claims) if (now - c.at > this.staleMs) this.claims.delete(node);
    const out = new Map<string, SeqRange[]>();
    const load = new Map<string, number>(); // entries asked per peer and not yet arrived
    let inAll = 0;
    for (const [author, a] of this.asked) {
      const waiting = Math.max(0, a.upTo - Math.max(a.held, mine[author] ?? 0));
      load.set(a.to, (load.get(a.to) ?? 0) + waiting);
      inAll += waiting;
    }
    for (const [author, target] of this.targets()) {
      const held = mine[author] ?? 0;
      if (target <= held) {
        this.asked.delete(author);
        this.failures.delete(author);
        continue;
      }
      // Asked and not yet all arrived: wait (for the rest, or for the next round).
      const prev = this.asked.get(author);
      if (prev && held < prev.upTo) continue;
      const source = this.pick(author, held, this.failures.get(author) ?? 0);
      if (!source) continue;
      // In chunks no larger than a receiver stores from one sender at once: a bus has no
      // end-to-end flow control, and what overflows is dropped and asked again a round later.
      const room = Math.min(MAX_ASKED_A_PEER - (load.get(source.node) ?? 0), MAX_ASKED_IN_ALL - inAll);
      if (room <= 0) continue;
      const upTo = Math.min(source.upTo, held + Math.min(MAX_ASK, room));
      load.set(source.node, (load.get(source.node) ?? 0) + (upTo - held));
      inAll += upTo - held;
      this.asked.set(author, { to: source.node, upTo, held });
      const list = out.get(source.node) ?? [];
      list.push({ author, from: held + 1, to: upTo });
      out.set(source.node, list);
    }
    return out;
  }

  private *targets(): Iterable<[string, number]> {
    const best = new Map(this.known);
    for (const c of this.claims.values()) for (const [a, s] of Object.entries(c.heads)) if (s > (best.get(a) ?? 0)) best.set(a, s);
    yield* best;
  }

  /**
   * Candidates: the author itself (every entry lives on its author, DESIGN §10), then the
   * upstream coordinators, then other peers by how much they claim; a retry takes the next.
   * A feed known only from a signed head is asked of the author if it is around, else upstream.
   */
  private pick(author: string, held: number, attempt: number): { node: string; upTo: number } | undefined {
    const claimed: Array<{ node: string; upTo: number; rank: number }> = [];
    for (const [node, c] of this.claims) {
      const s = c.heads[author] ?? 0;
      if (node === this.self || s <= held) continue;
      const rank = node === author ? 0 : this.upstream.includes(node) ? 1 : 2;
      claimed.push({ node, upTo: s, rank });
    }
    claimed.sort((a, b) => a.rank - b.rank || b.upTo - a.upTo || (a.node < b.node ? -1 : 1));
    const target = this.known.get(author) ?? 0;
    if (claimed.length === 0 && target > held) {
      const fallback = [...(this.claims.has(author) && author !== this.self ? [author] : []), ...this.upstream.filter((u) => u !== this.self)];
      const node = fallback[attempt % Math.max(1, fallback.length)];
      return node ? { node, upTo: target } : undefined;
    }
    return claimed[attempt % Math.max(1, claimed.length)];
  }
}
