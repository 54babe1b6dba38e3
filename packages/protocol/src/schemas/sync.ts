/** MQTT sync and status messages (DESIGN §7). Every payload is parsed with these before use. */
import { z } from 'zod';
import { Hlc } from '../hlc.js';
import { HashHex, Millis, PublicKeyHex, ResourceId, MemberId, Seq, SignatureHex } from './common.js';
import { MAX_ENTRY_BYTES } from './entry.js';

/**
 * Bytes a sync message adds around the entries it carries: a batch is one JSON header line
 * (kind, node, to) and then one canonical entry per line, so its envelope is the header and
 * the newlines. Headers are about 200 bytes; the rest is margin.
 */
export const SYNC_ENVELOPE_BYTES = 1024;
/**
 * The smallest byte limit a sync transport may have: the largest valid entry plus its
 * envelope, so any entry fits a batch on its own and no feed stalls behind one that does not.
 */
export const MIN_SYNC_MESSAGE_BYTES = MAX_ENTRY_BYTES + SYNC_ENVELOPE_BYTES;

/** Feed heads: author → highest contiguous seq held. */
export const Heads = z.record(PublicKeyHex, Seq).refine((h) => Object.keys(h).length <= 100_000, 'too many feeds');
export type Heads = z.infer<typeof Heads>;

/**
 * Most forked feeds a `have` names (~19 KB: a `have` must stay well under a batch's byte limit).
 * Forks are recorded only for feeds a ledger stores, those of keys with authority, and each one
 * waits for an admin, so a site has few. A replica with more names those of keys holding
 * authority first; peers may then send it proofs it already holds (counted as duplicates).
 */
export const MAX_HAVE_FORKS = 256;
/** A forked feed as a `have` names it: its lowest forked seq, and how many different signed entries the sender holds there. */
export const ForkClaim = z.strictObject({ seq: Seq, entries: z.number().int().min(2).max(64) });
export type ForkClaim = z.infer<typeof ForkClaim>;

/**
 * `forks`: author → the fork the sender holds of that feed. The receiver sends the proofs (every
 * entry at that seq) of the forks the sender lacks, or knows at a later seq or with fewer
 * entries, so replicas that hold the same feeds also agree on which of them are forked and how
 * (DESIGN §4). Optional: earlier releases omit it.
 */
export const HaveMessage = z.strictObject({
  kind: z.literal('have'),
  node: PublicKeyHex,
  heads: Heads,
  forks: z.record(PublicKeyHex, ForkClaim).refine((f) => Object.keys(f).length <= MAX_HAVE_FORKS, `at most ${MAX_HAVE_FORKS} forked feeds`).optional(),
  /**
   * Over a bus, a have is signed by its node under the sync domain with the node's clock
   * (`at`): what a coordinator claims to hold then says when a node's rules were last confirmed
   * fresh and what it has acknowledged (DESIGN §6, §7). Point-to-point peers may omit both.
   */
  at: Millis.optional(),
  /** True when `heads` names only some of the sender's feeds (too many for one message): then it confirms no freshness. */
  partial: z.literal(true).optional(),
  sig: SignatureHex.optional(),
});
/** A fork a want asks the proof of: every signed entry the receiver holds at `seq` of `author`'s feed. */
export const ForkWant = z.strictObject({ author: PublicKeyHex, seq: Seq });
export const SeqRange = z.strictObject({ author: PublicKeyHex, from: Seq, to: Seq }).refine((r) => r.from <= r.to, 'range must have from <= to');
export type SeqRange = z.infer<typeof SeqRange>;
/**
 * `to`: the one replica asked (over a bus every replica may see a message; only the addressee
 * answers). Point-to-point peers may omit it.
 */
export const WantMessage = z.strictObject({
  kind: z.literal('want'),
  node: PublicKeyHex,
  to: PublicKeyHex.optional(),
  ranges: z.array(SeqRange).max(10_000),
  forks: z.array(ForkWant).max(MAX_HAVE_FORKS).optional(),
  /** Over a bus, signed by `node` under the sync domain: a forged sender would turn a small want into a large send to anyone. */
  sig: SignatureHex.optional(),
});
/** Entries travel as their canonical encodings, so the receiver can check the bytes. */
export const BatchMessage = z.strictObject({ kind: z.literal('batch'), node: PublicKeyHex, to: PublicKeyHex.optional(), entries: z.array(z.string()).max(10_000) });

export const HeadMessage = z.strictObject({ author: PublicKeyHex, seq: Seq, hash: HashHex, hlc: Hlc });

/**
 * A node's status (`node/<node>/status`, retained; DESIGN §7), signed by the node under the sync
 * domain. `online: false` is the broker's Last Will, which nobody signs at connect time for later.
 */
export const NodeStatus = z.strictObject({
  node: PublicKeyHex,
  online: z.boolean(),
  versions: z.record(z.string().max(64), z.string().max(64)),
  /** Its own feed's head (0: empty). */
  head: z.number().int().nonnegative().max(2 ** 40),
  /** What its upstream (the coordinator) has acknowledged holding of that feed (null: not heard yet). */
  acked: z.number().int().nonnegative().max(2 ** 40).nullable(),
  /** When it last confirmed, by its coordinator's signed heads, that it holds every entry the coordinator holds (null: never). */
  rulesFreshAt: Millis.nullable(),
  /** Age of the newest rules this node holds, in ms (null: has never synced). */
  rulesAgeMs: z.number().int().nonnegative().nullable(),
  /** Entries this node knows it is missing. */
  syncLag: z.number().int().nonnegative(),
  /** Entries stored for a newer version of Keymesh (DESIGN §4; Ledger.heldForNewerVersion): an alarm until the node is upgraded. */
  heldForNewerVersion: z.number().int().nonnegative(),
  at: Millis,
  sig: SignatureHex.optional(),
});

export const NodeState = z.strictObject({
  node: PublicKeyHex,
  resource: ResourceId,
  kind: z.enum(['door', 'machine']),
  state: z.enum(['locked', 'unlocked', 'open', 'held_open', 'forced', 'idle', 'in_use', 'locked_out']),
  member: MemberId.nullable(),
  at: Millis,
});

export const SyncMessage = z.discriminatedUnion('kind', [HaveMessage, WantMessage, BatchMessage]);
export type SyncMessage = z.infer<typeof SyncMessage>;
export type HaveMessage = z.infer<typeof HaveMessage>;
export type WantMessage = z.infer<typeof WantMessage>;
export type BatchMessage = z.infer<typeof BatchMessage>;
export type NodeStatus = z.infer<typeof NodeStatus>;
export type NodeState = z.infer<typeof NodeState>;
