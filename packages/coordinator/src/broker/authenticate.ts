/**
 * The embedded broker's CONNECT check (DESIGN §3): the username is a public key, the password a
 * login token (protocol's verifyLoginToken: signature, ±5 min, once, nothing made before the
 * broker started), and the key must be a current admin or an enrolled, unretired node of the
 * site's policy as it is now (read at every CONNECT: a suspended admin or a retired node is
 * refused at its next connection). Whether it connects as a node or as an admin is decided here
 * and kept for the connection.
 */
import { LOGIN_REFUSALS, PublicKeyHex, isCurrentAdmin, mayConnect, verifyLoginToken, type AdminSource, type LoginRefusal, type NodeValue, type ReplayCache } from '@keymesh/protocol';
import type { Principal } from './acl.js';

export type BrokerPolicy = AdminSource & { node(key: string): NodeValue | undefined };

/** Refusals of the broker itself, besides the token's own (LOGIN_REFUSALS). */
export const BROKER_LOGIN_REFUSALS = {
  CLIENT_ID_TAKEN: 'this client id is connected under another key (or reserved by the coordinator); use a client id of your own',
  POLICY_UNAVAILABLE: 'the broker could not read the site policy; try again shortly',
  PERSISTENT_SESSION: 'this broker keeps no session after a client leaves: connect with clean session on (the sync catches up by itself)',
} as const;
export type BrokerLoginRefusal = LoginRefusal | keyof typeof BROKER_LOGIN_REFUSALS;

export type LoginDecision = { ok: true; principal: Principal } | { ok: false; code: BrokerLoginRefusal; reason: string };

export interface LoginInput {
  clientId: string;
  username: unknown;
  password: unknown;
  site: string;
  now: number;
  startedAt: number;
  seen: ReplayCache;
  policy: () => BrokerPolicy;
  /**
   * The CONNECT asked for a persistent session (clean session off). Refused: the broker would
   * keep its subscriptions and queue every matching QoS 1 message for it after it left, for
   * ever, so one node connecting under many client ids could fill the coordinator's memory.
   */
  persistent?: boolean;
  /** The key connected under this client id now, or a reserved id's marker; undefined when free. */
  holderOf: (clientId: string) => string | undefined;
}

export function decideLogin(i: LoginInput): LoginDecision {
  let policy: BrokerPolicy;
  try {
    policy = i.policy();
  } catch {
    return { ok: false, code: 'POLICY_UNAVAILABLE', reason: BROKER_LOGIN_REFUSALS.POLICY_UNAVAILABLE };
  }
  const v = verifyLoginToken(i.username, i.password, {
    clientId: i.clientId, site: i.site, now: i.now, seen: i.seen, startedAt: i.startedAt,
    mayConnect: (key) => mayConnect(policy, key),
  });
  if (!v.ok) return v;
  // A node reconnecting under its own client id takes its old session over (MQTT-3.1.4-2);
  // another key may not push it off the broker that way.
  const holder = i.holderOf(i.clientId);
  if (holder !== undefined && holder !== v.key) return { ok: false, code: 'CLIENT_ID_TAKEN', reason: BROKER_LOGIN_REFUSALS.CLIENT_ID_TAKEN };
  if (i.persistent) return { ok: false, code: 'PERSISTENT_SESSION', reason: BROKER_LOGIN_REFUSALS.PERSISTENT_SESSION };
  // A key both enrolled as a node and an admin connects as the node: what runs under a node's
  // key is that node's software, and a node's rights are the narrower for what it publishes.
  const node = policy.node(v.key);
  if (node && !node.retired) return { ok: true, principal: { kind: 'node', key: v.key, role: node.role } };
  if (isCurrentAdmin(policy, v.key)) return { ok: true, principal: { kind: 'admin', key: v.key } };
  return { ok: false, code: 'NOT_ALLOWED', reason: LOGIN_REFUSALS.NOT_ALLOWED };
}

/** The username as it may be logged: a public key is not a secret; anything else is only measured. */
export function loggableUser(username: unknown): string {
  if (PublicKeyHex.safeParse(username).success) return username as string;
  return typeof username === 'string' ? `(not a key: ${username.length} characters)` : '(none)';
}
