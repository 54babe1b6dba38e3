/**
 * Bodies of every ledger entry type of the first release. Objects are strict: an unknown
 * field is an error, so no field can ride along unsigned-in-spirit or change the hash unseen.
 */
import { z } from 'zod';
import { CardRef, CertId, HashHex, Id, MemberId, Millis, PublicKeyHex, ResourceId, SignatureHex, Text, UntilSeq } from './common.js';
import { DecisionReason } from './decision.js';

const MAX_LIST = 256;

export const SiteGenesis = z.strictObject({
  name: Text(100).min(1),
  admins: z.array(PublicKeyHex).min(1).max(64),
  quorum: z.number().int().min(1).max(64),
}).refine((b) => b.quorum <= new Set(b.admins).size, { message: 'quorum cannot exceed the number of distinct admins' });

export const AdminGrant = z.strictObject({ key: PublicKeyHex, until: UntilSeq });

/** Another admin's approval of an admin-set change: a signature over `adminsChangeDigest(...)`. */
export const Approval = z.strictObject({ key: PublicKeyHex, sig: SignatureHex });

export const AdminsChange = z.strictObject({
  /**
   * The whole new admin set. A removed admin stays listed with `until` (the last seq of its
   * feed that still counts): its entries up to there keep counting, and a change it signs past
   * there loses against this one even if it names older `deps` (policy/admin-set.ts).
   */
  admins: z.array(AdminGrant).min(1).max(64),
  quorum: z.number().int().min(1).max(64),
  approvals: z.array(Approval).max(64),
}).refine((b) => b.quorum <= new Set(b.admins.filter((a) => a.until === null).map((a) => a.key)).size, { message: 'quorum cannot exceed the number of admins left active (until null)' });

export const NodeRole = z.enum(['edge', 'coordinator']);
/**
 * The key a re-imaged or restored node replaced, and the last seq of that key's feed that
 * counts: its head as the admin holds it, never more. Entries the old key signs between its
 * real head and `lastSeq` count as the node's, so a generous `lastSeq` hands them to whoever
 * holds the old key (a stolen SD card). A replacement never raises the `lastSeq` of a
 * retirement or replacement it names in `deps` (policy/values.ts); a later `node.retire`
 * naming it supersedes it, and re-enrolling the old key brings it back.
 */
export const NodeReplaces = z.strictObject({ node: PublicKeyHex, lastSeq: z.number().int().nonnegative().max(2 ** 40) });
export const NodeEnrol = z.strictObject({
  node: PublicKeyHex,
  name: Text(100).min(1),
  role: NodeRole,
  /** Resources this node controls; it may record events and panel certifications only for these. */
  resources: z.array(ResourceId).max(MAX_LIST),
  /**
   * A new key for a node restored or re-imaged (DESIGN §10): the old key's feed is retired at
   * `lastSeq`, as a `node.retire` would, and everything it recorded up to there keeps counting.
   * Its `deps` name the old key's heads as well as the new key's.
   */
  replaces: NodeReplaces.optional(),
}).refine((b) => b.replaces === undefined || b.replaces.node !== b.node, { path: ['replaces', 'node'], message: 'a key cannot replace itself' });
export const NodeRetire = z.strictObject({
  node: PublicKeyHex,
  /** Entries of the node's feed after this seq are no longer trusted (0: none of them). The dashboard fills in the node's head as it knows it. */
  lastSeq: z.number().int().nonnegative().max(2 ** 40),
  reason: Text(500),
});

export const MemberStatus = z.enum(['active', 'suspended']);
/** Per signing key, the last seq of its feed that still counts. */
export const KeyPositions = z.record(PublicKeyHex, z.number().int().nonnegative().max(2 ** 40)).refine((r) => Object.keys(r).length <= 16, 'at most 16 keys');
export const MemberPut = z.strictObject({
  member: MemberId,
  name: Text(200).min(1),
  contact: Text(200),
  status: MemberStatus,
  /** Membership paid up to (ms since epoch); null: no expiry. */
  validUntil: Millis.nullable(),
  /** The member's signing keys (trainers and admins sign with them); `until` withdraws one without voiding its past. */
  keys: z.array(z.strictObject({ key: PublicKeyHex, until: UntilSeq })).max(16),
  /**
   * Certifications this member may grant as a trainer. `until` null: current. To withdraw a
   * scope, list it with `until` naming, for each of the member's keys, the last seq of that key
   * that still counts (a key not named: none of its entries); what the trainer certified before
   * keeps counting, and nothing signed later does, whatever record it claims (policy/trainers.ts).
   */
  trainerFor: z.array(z.strictObject({ cert: CertId, until: KeyPositions.nullable() })).max(MAX_LIST),
});

export const CardBind = z.strictObject({ card: CardRef, member: MemberId });
export const CardUnbind = z.strictObject({ card: CardRef, reason: Text(500) });

/** Weekly opening windows in the resource's time zone; minutes from local midnight, [from, to). */
export const ScheduleWindow = z.strictObject({
  days: z.array(z.number().int().min(0).max(6)).min(1).max(7), // 0 = Sunday
  from: z.number().int().min(0).max(1439),
  to: z.number().int().min(1).max(1440),
}).refine((w) => w.from < w.to, { message: 'window must end after it starts (split windows that cross midnight in two)' });
const knownZones = new Map<string, boolean>();
function isTimeZone(tz: string): boolean {
  let ok = knownZones.get(tz);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      ok = true;
    } catch {
      ok = false;
    }
    knownZones.set(tz, ok);
  }
  return ok;
}

export const Schedule = z.strictObject({
  timezone: z.string().min(1).max(64).refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin or UTC'),
  windows: z.array(ScheduleWindow).max(64),
});
export type Schedule = z.infer<typeof Schedule>;

export const ResourceKind = z.enum(['door', 'machine']);
export const ResourcePut = z.strictObject({
  resource: ResourceId,
  name: Text(100).min(1),
  kind: ResourceKind,
  requiredCerts: z.array(CertId).max(32),
  /** null: always open to whoever passes the other checks. */
  schedule: Schedule.nullable(),
  unlockSeconds: z.number().int().min(1).max(600),
  /** Machines: end the session after this much idle time; null: no idle timeout. */
  idleTimeoutSeconds: z.number().int().min(1).max(86400).nullable(),
  /** How long this resource may decide on rules not refreshed by sync; null: no limit. */
  maxStaleHours: z.number().int().min(1).max(24 * 365).nullable(),
  /** high: past maxStaleHours only admins may use it; normal: keeps working on the last rules (doors). */
  risk: z.enum(['normal', 'high']),
});

export const CertGrant = z.strictObject({
  member: MemberId,
  cert: CertId,
  /** The trainer who certified (null when an admin grants directly). */
  grantedBy: MemberId.nullable(),
  note: Text(500),
});
export const CertRevoke = z.strictObject({
  member: MemberId,
  cert: CertId,
  revokedBy: MemberId.nullable(),
  reason: Text(500),
});

/**
 * A machine's lockout (DESIGN §5): `now` powers it off at once (a session in progress ends),
 * `when_idle` lets the current session run out but starts no new one, `lifted` ends it.
 * Admins set and lift it; a member certified for the machine may set `now` (the emergency
 * button: signed by the machine's node, `by` naming the member, or by the member's own key).
 */
export const LockoutState = z.enum(['now', 'when_idle', 'lifted']);
export const ResourceLockout = z.strictObject({
  resource: ResourceId,
  state: LockoutState,
  /** The member who pressed the button at the machine; null when an admin sets it. */
  by: MemberId.nullable(),
  reason: Text(500),
});

/** What was presented at a reader: a card, by its reference (never its uid). */
export const Credential = z.strictObject({ kind: z.literal('card'), card: CardRef });
export type Credential = z.infer<typeof Credential>;

export const AccessDecision = z.strictObject({
  resource: ResourceId,
  credential: Credential,
  allow: z.boolean(),
  reason: DecisionReason,
  member: MemberId.nullable(),
  at: Millis,
});

/** 16 random bytes, hex: a command's id (command.ts). */
export const CommandId = z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex characters (16 random bytes)');

/** Why a door unlocked: a member's tap, the exit button, or a remote command (its id and the admin who issued it). */
export const DoorCause = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('tap'), member: MemberId, card: CardRef }),
  z.strictObject({ kind: z.literal('exit_button') }),
  z.strictObject({ kind: z.literal('command'), command: CommandId, issuer: PublicKeyHex }),
]);
export type DoorCause = z.infer<typeof DoorCause>;

export const DoorEvent = z.strictObject({
  resource: ResourceId,
  event: z.enum(['opened', 'closed', 'held_open', 'forced', 'unlocked', 'locked', 'exit_request']),
  at: Millis,
  /** What made it happen; null for what the door's sensors report by themselves. An unlock always has one. */
  cause: DoorCause.nullable(),
}).refine((b) => b.event !== 'unlocked' || b.cause !== null, { path: ['cause'], message: 'an unlock names its cause (tap, exit button or command)' });

export const MachineSession = z.strictObject({
  resource: ResourceId,
  session: Id,
  member: MemberId,
  event: z.enum(['start', 'end']),
  at: Millis,
  /** On end: seconds the machine was powered for this session. */
  seconds: z.number().int().nonnegative().nullable(),
  endReason: z.enum(['tap_out', 'idle_timeout', 'badge_removed', 'admin', 'shutdown']).nullable(),
});

/**
 * A software bundle for the nodes (DESIGN §8): its manifest (a blob, by the SHA-256 of its
 * canonical encoding: blob-manifest.ts), version, size in bytes, and the nodes that should run
 * it. Signed by an admin.
 */
export const BundlePublish = z.strictObject({
  manifest: HashHex,
  version: z.string().min(1).max(64).regex(/^[0-9A-Za-z][0-9A-Za-z.+-]*$/, 'must be a version such as 1.4.2 or 1.5.0-rc.1'),
  size: z.number().int().nonnegative().max(2 ** 47),
  targets: z.union([z.literal('all'), z.array(PublicKeyHex).min(1).max(MAX_LIST)]),
});

/**
 * A node's clock (DESIGN §6, §10): an entry whose content is its stamp. A coordinator appends
 * one now and then, so an edge without a real-time clock learns a verified time from the
 * coordinator's signed head even when no rule changes. It changes no policy and is no access
 * event; from a node that is not a coordinator its stamp means nothing.
 */
export const ClockTick = z.strictObject({});

/** Entry type → body schema. Adding a type is adding a line here and its rules in policy/. */
export const BODY_SCHEMAS = {
  'site.genesis': SiteGenesis,
  'admins.change': AdminsChange,
  'node.enrol': NodeEnrol,
  'node.retire': NodeRetire,
  'member.put': MemberPut,
  'card.bind': CardBind,
  'card.unbind': CardUnbind,
  'resource.put': ResourcePut,
  'cert.grant': CertGrant,
  'cert.revoke': CertRevoke,
  'resource.lockout': ResourceLockout,
  'access.decision': AccessDecision,
  'door.event': DoorEvent,
  'machine.session': MachineSession,
  'bundle.publish': BundlePublish,
  'clock.tick': ClockTick,
} as const;

export type EntryType = keyof typeof BODY_SCHEMAS;
export const ENTRY_TYPES = Object.keys(BODY_SCHEMAS) as EntryType[];
export type BodyOf<T extends EntryType> = z.infer<(typeof BODY_SCHEMAS)[T]>;
export type AnyBody = { [T in EntryType]: BodyOf<T> }[EntryType];

/** Access events form a grow-only set; every other type changes a policy register. */
export const EVENT_TYPES = new Set<EntryType>(['access.decision', 'door.event', 'machine.session']);
export function isEventType(t: EntryType): boolean {
  return EVENT_TYPES.has(t);
}

export { HashHex };
