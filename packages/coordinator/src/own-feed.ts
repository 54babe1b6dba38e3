/**
 * The coordinator's own feed (DESIGN §4, §6, §10). It writes one kind of entry, `clock.tick`,
 * now and then: an edge without a real-time clock learns a verified time from the
 * coordinator's signed head even when no rule changes. It appends nothing until it has learned
 * its own feed's head from the nodes: a coordinator whose ledger was lost or restored from an
 * old copy would otherwise re-sign seqs it already published and fork its feed. Learned means:
 * at least one other enrolled node's signed have has been heard since start, and no node
 * claims more of this feed than the ledger holds (a claim makes the sync fetch the missing
 * entries; a lying claim only keeps the clock from ticking). The first claim heard is not
 * enough alone: a node that is itself behind (or lies low) would answer first and the restored
 * coordinator would re-sign seqs the others hold, so the decision waits until every enrolled
 * node has spoken or LEARN_GRACE_MS has passed since the first claim, and takes the highest.
 */
import type { KeyPair } from '@keymesh/protocol';
import type { Ledger, PubSubSync } from '@keymesh/ledger';
import type { Logger } from './log.js';

export const DEFAULT_TICK_MS = 15 * 60_000;
const CHECK_MS = 1000;
/** Several sync periods (5 s): every node online announces its have within it. */
export const LEARN_GRACE_MS = 30_000;

export interface OwnFeedStatus {
  learned: boolean;
  /** This feed's head as the ledger holds it. */
  local: number;
  /** The most any node has claimed of it (null: no node heard yet). */
  claimed: number | null;
  /** Every enrolled, unretired node but this one has claimed something. */
  allHeard: boolean;
}

export class OwnFeed {
  private learnedAt: number | null = null;
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastTick = 0;
  private firstClaimAt: number | null = null;

  constructor(
    private readonly ledger: Ledger,
    private readonly key: KeyPair,
    private readonly sync: PubSubSync,
    private readonly log: Logger,
    private readonly o: { tickMs?: number; learnGraceMs?: number } = {},
  ) {}

  /** Starts watching for the moment the head is learned, then ticks every `tickMs`. */
  learn(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), CHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get learned(): boolean {
    return this.learnedAt !== null;
  }

  status(): OwnFeedStatus {
    const self = this.key.publicKey;
    const local = this.ledger.heads()[self] ?? 0;
    let claimed: number | null = null;
    let allHeard = true;
    for (const n of this.ledger.nodes()) {
      if (n.node === self || n.retired) continue;
      const c = this.sync.acknowledgedBy(n.node);
      if (c !== undefined) claimed = Math.max(claimed ?? 0, c);
      else allHeard = false;
    }
    return { learned: this.learned, local, claimed, allHeard };
  }

  /** One check: learned yet? then a tick if one is due. Never throws into the timer. */
  check(now = Date.now()): void {
    try {
      if (this.learnedAt === null) {
        const s = this.status();
        if (s.claimed === null) return;
        this.firstClaimAt ??= now;
        if (!s.allHeard && now - this.firstClaimAt < (this.o.learnGraceMs ?? LEARN_GRACE_MS)) return;
        if (s.claimed > s.local || this.ledger.ownFeedBehind(this.key.publicKey)) return;
        this.learnedAt = now;
        this.log.info({ ev: 'own-head-learned', seq: s.local }, 'own feed head learned from the nodes');
      }
      if (now - this.lastTick >= (this.o.tickMs ?? DEFAULT_TICK_MS)) this.tick(now);
    } catch (err) {
      this.log.error({ ev: 'own-feed', err: (err as Error).message }, 'own feed check failed');
    }
  }

  private tick(now: number): void {
    this.lastTick = now;
    const [made] = this.ledger.appendMany(this.key, [{ type: 'clock.tick', body: {} }]);
    if (made) this.sync.publishEntries([made.entry]);
  }
}
