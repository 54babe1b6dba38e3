/**
 * Commands (DESIGN §7): an admin asks one node to act now (remote unlock). A lockout is an
 * entry, not a command. A command is signed under its own domain, names one site, node and
 * resource, carries a random id, an issue time and an expiry at most 60 s later, and travels on
 * `cmd/<node>`, never retained. A node acts on one only if every check below passes, and once:
 * a reboot or a redelivery must not open a door again. What it did is logged as a `door.event`
 * whose cause names the command id and issuer.
 */
import { z } from 'zod';
import { toHex } from './bytes.js';
import { SIGNING_DOMAINS, signDomain, verifyDomain } from './crypto/domains.js';
import { defaultCrypto, type CryptoProvider } from './crypto/index.js';
import { describeZodError } from './entry.js';
import { ProtocolError } from './errors.js';
import type { KeyPair } from './keys.js';
import type { ReplayCache } from './replay-cache.js';
import type { NodeValue } from './policy/values.js';
import { CommandId } from './schemas/bodies.js';
import { HashHex, Millis, PublicKeyHex, ResourceId, SignatureHex } from './schemas/common.js';

/** Longest a command stays valid after it is issued. */
export const MAX_COMMAND_TTL_MS = 60_000;
/** How far ahead of the receiver's `now` an issue time may be (the admin's and the node's clocks differ). */
export const MAX_COMMAND_CLOCK_SKEW_MS = 30_000;

export const CommandAction = z.enum(['unlock']);

export const Command = z.strictObject({
  action: CommandAction,
  id: CommandId,
  site: HashHex,
  /** The node that is to act. */
  node: PublicKeyHex,
  resource: ResourceId,
  /** The admin key that signed it. */
  issuer: PublicKeyHex,
  issuedAt: Millis,
  expiresAt: Millis,
  sig: SignatureHex,
}).refine((c) => c.expiresAt > c.issuedAt && c.expiresAt - c.issuedAt <= MAX_COMMAND_TTL_MS, {
  path: ['expiresAt'], message: `must be after issuedAt and at most ${MAX_COMMAND_TTL_MS / 1000} s later`,
});
export type Command = z.infer<typeof Command>;

export const COMMAND_REFUSALS = {
  RETAINED: 'the command came from a retained message; commands are acted on only when delivered live (publish them with retain false)',
  SCHEMA: 'the message is not a command of this protocol version',
  WRONG_SITE: 'the command is for another site',
  WRONG_NODE: 'the command names another node; it is published on that node\'s cmd topic',
  WRONG_RESOURCE: 'the command names a resource this node does not control, or this node is retired or replaced; check the node\'s enrolment',
  BAD_SIGNATURE: 'the command\'s signature does not verify under the command domain for its issuer',
  NOT_ADMIN: 'the issuer is not a current admin of this site',
  EXPIRED: 'the command has expired; issue a new one',
  NOT_YET_VALID: 'the command was issued later than this node\'s clock allows; check the admin\'s and the node\'s clocks',
  REPLAYED: 'this command was already acted on',
  REPLAY_CACHE_FULL: 'too many commands are still valid here; try again in a minute',
} as const;
export type CommandRefusal = keyof typeof COMMAND_REFUSALS;

export type CommandVerdict = { ok: true; command: Command } | { ok: false; code: CommandRefusal; reason: string };

/** Where the admin set is read: a PolicyState (or anything with its `admins()`). */
export interface AdminSource {
  admins(): { value: { admins: Record<string, number | null> } } | undefined;
  /** Is entry `seq` of `author` at or past a fork of its feed (PolicyState has it)? */
  isForkedOut?(author: string, seq: number): boolean;
}

/**
 * Is `key` a current admin: in the admin set with no `until` (not withdrawn), and its feed not
 * forked? A forked key is in two places, maybe a thief's (DESIGN §4: trust stops at the fork),
 * so it commands and logs in as nothing until the other admins act.
 */
export function isCurrentAdmin(state: AdminSource, key: string): boolean {
  const admins = state.admins()?.value.admins;
  return !!admins && Object.hasOwn(admins, key) && admins[key] === null && !state.isForkedOut?.(key, Number.MAX_SAFE_INTEGER);
}

export interface NewCommand {
  action?: Command['action'];
  site: string;
  node: string;
  resource: string;
  /** ms; default Date.now(). */
  issuedAt?: number;
  /** ms the command stays valid, at most MAX_COMMAND_TTL_MS (default 30 s). */
  ttlMs?: number;
}

/** A signed command by admin `key`, with a fresh random id. Throws SCHEMA for a bad site, node or resource. */
export function makeCommand(c: NewCommand, key: KeyPair, crypto: CryptoProvider = defaultCrypto): Command {
  const issuedAt = c.issuedAt ?? Date.now();
  const ttl = c.ttlMs ?? 30_000;
  if (!Number.isSafeInteger(ttl) || ttl < 1 || ttl > MAX_COMMAND_TTL_MS) throw new RangeError(`ttlMs must be 1..${MAX_COMMAND_TTL_MS}`);
  const unsigned = {
    action: c.action ?? 'unlock', id: toHex(crypto.randomBytes(16)), site: c.site, node: c.node, resource: c.resource,
    issuer: key.publicKey, issuedAt, expiresAt: issuedAt + ttl,
  };
  // Checked before signing (a placeholder signature): a key never signs a command nodes refuse.
  const probe = Command.safeParse({ ...unsigned, sig: '0'.repeat(128) });
  if (!probe.success) throw new ProtocolError('SCHEMA', `command: ${describeZodError(probe.error)}`);
  return { ...probe.data, sig: signDomain(SIGNING_DOMAINS.cmd, unsigned, key, crypto) };
}

/** The resources `node` controls now: its enrolment's, none if it is unknown, retired or replaced. */
export function controlledResources(state: { node(key: string): NodeValue | undefined }, node: string): string[] {
  const n = state.node(node);
  return n && !n.retired ? n.resources : [];
}

export interface CommandContext {
  /** This node's site and public key. */
  site: string;
  node: string;
  /** The resources this node controls now (controlledResources(state, node)): a command for any other is refused. */
  resources: readonly string[];
  /** This node's `now` (node-now.ts). */
  now: number;
  /** Did the message arrive as a retained one (MQTT's retain flag on delivery)? */
  retained: boolean;
  /** Who counts as an admin: the policy state, or a function of the key. */
  admins: AdminSource | ((key: string) => boolean);
  /**
   * Ids already acted on; a command that passes is recorded here. Kept across restarts: save
   * `seen.snapshot(now)` durably after an ok verdict and before driving the relay, and build
   * it at start with `ReplayCache.restore(saved)`. The door.event logged afterwards is not
   * enough: a power cut between the opening and the append would let a replay open it again.
   */
  seen: ReplayCache;
  crypto?: CryptoProvider;
}

function refuse(code: CommandRefusal, detail = ''): CommandVerdict {
  return { ok: false, code, reason: detail ? `${COMMAND_REFUSALS[code]} (${detail})` : COMMAND_REFUSALS[code] };
}

/**
 * The checks a node makes before it acts on a command, in order: live delivery, schema, site,
 * addressee, a resource it controls, signature, issuer, time, and once only (recorded in
 * `seen` only when all pass; see CommandContext.seen for restarts).
 */
export function verifyCommand(input: unknown, ctx: CommandContext): CommandVerdict {
  if (ctx.retained) return refuse('RETAINED');
  const parsed = Command.safeParse(input);
  if (!parsed.success) return refuse('SCHEMA', describeZodError(parsed.error));
  const c = parsed.data;
  if (c.site !== ctx.site) return refuse('WRONG_SITE');
  if (c.node !== ctx.node) return refuse('WRONG_NODE');
  if (!ctx.resources.includes(c.resource)) return refuse('WRONG_RESOURCE', `resource ${c.resource}`);
  if (!verifyDomain(SIGNING_DOMAINS.cmd, c, c.sig, c.issuer, ctx.crypto ?? defaultCrypto)) return refuse('BAD_SIGNATURE');
  const isAdmin = typeof ctx.admins === 'function' ? ctx.admins(c.issuer) : isCurrentAdmin(ctx.admins, c.issuer);
  if (!isAdmin) return refuse('NOT_ADMIN');
  // Never earlier than the cache's floor: a clock gone back must not revive a forgotten command
  // (a clock once far ahead then refuses commands until real time passes it: the safe side).
  const now = Math.max(ctx.now, ctx.seen.floor);
  if (now > c.expiresAt) return refuse('EXPIRED', `expired ${now - c.expiresAt} ms ago`);
  if (c.issuedAt > now + MAX_COMMAND_CLOCK_SKEW_MS) return refuse('NOT_YET_VALID', `issued ${c.issuedAt - now} ms ahead of this node's clock`);
  const seen = ctx.seen.check(c.id, c.expiresAt, now);
  if (seen === 'replayed') return refuse('REPLAYED');
  if (seen === 'full') return refuse('REPLAY_CACHE_FULL');
  return { ok: true, command: c };
}
