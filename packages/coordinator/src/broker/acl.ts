/**
 * Who may publish, subscribe to and receive what on a site's broker (DESIGN §3, §7). Pure: the
 * embedded broker asks it for every packet, and mosquitto-conf.ts writes the same tables as a
 * Mosquitto ACL, so both brokers enforce one rule set.
 *
 * - A node (an enrolled, unretired edge or coordinator) publishes only topics that name it
 *   first; it reads what every replica reads (feeds, heads, statuses, states, haves, held
 *   bundles) and what is addressed to it (wants, batches, blob requests and parts, commands).
 * - A coordinator node is also a relay (DESIGN §2, §11): it republishes every feed's entries and
 *   retained heads, relays admins' commands, and reads the whole site but other nodes' commands.
 *   What it relays is signed by others and checked by every receiver: the ledger is the second wall.
 * - An admin (a current one) publishes only commands, never retained, and reads the whole site
 *   but the commands, which are for their node alone.
 * - Nothing outside `keymesh/v1/<site16>/`, nothing under `$SYS`, no wildcard in a publish, and
 *   nothing retained but heads, statuses, states and held reports.
 */
import { TOPIC_ROOT, siteTopicId } from '@keymesh/protocol';

export type NodeRole = 'edge' | 'coordinator';
/** Decided at CONNECT from the site's policy and kept for the connection. */
export type Principal = { kind: 'node'; key: string; role?: NodeRole } | { kind: 'admin'; key: string };
export type AclDecision = { ok: true } | { ok: false; reason: string };

/** A topic level of a rule: a literal, the principal's own key, or any one public key. */
export const SELF = Symbol('self');
export const ANY_KEY = Symbol('any key');
export type Level = string | typeof SELF | typeof ANY_KEY;
export interface PublishRule {
  levels: readonly Level[];
  retain: boolean;
}

/** What any node may publish (levels after the site root). */
export const NODE_PUBLISH: readonly PublishRule[] = [
  { levels: ['feed', SELF], retain: false },
  { levels: ['head', SELF], retain: true },
  { levels: ['node', SELF, 'status'], retain: true },
  { levels: ['node', SELF, 'state'], retain: true },
  { levels: ['sync', SELF, 'have'], retain: false },
  { levels: ['sync', SELF, 'want', ANY_KEY], retain: false },
  { levels: ['sync', SELF, 'batch', ANY_KEY], retain: false },
  { levels: ['blob', SELF, 'get', ANY_KEY], retain: false },
  { levels: ['blob', SELF, 'put', ANY_KEY], retain: false },
  { levels: ['blob', SELF, 'held'], retain: true },
];

/** What a coordinator node publishes besides: it relays (DESIGN §2). */
export const RELAY_PUBLISH: readonly PublishRule[] = [
  { levels: ['feed', ANY_KEY], retain: false },
  { levels: ['head', ANY_KEY], retain: true },
  { levels: ['cmd', ANY_KEY], retain: false },
];

/** What an admin publishes: commands (DESIGN §7), never retained. */
export const ADMIN_PUBLISH: readonly PublishRule[] = [{ levels: ['cmd', ANY_KEY], retain: false }];

/** Filters an edge node may subscribe to, or narrower ones (ANY_KEY stands for `+`). */
export const NODE_SUBSCRIBE: readonly (readonly Level[])[] = [
  ['feed', ANY_KEY],
  ['head', ANY_KEY],
  ['node', ANY_KEY, 'status'],
  ['node', ANY_KEY, 'state'],
  ['sync', ANY_KEY, 'have'],
  ['sync', ANY_KEY, 'want', SELF],
  ['sync', ANY_KEY, 'batch', SELF],
  ['blob', ANY_KEY, 'get', SELF],
  ['blob', ANY_KEY, 'put', SELF],
  ['blob', ANY_KEY, 'held'],
  ['cmd', SELF],
];

/** Longer topics are refused before they are split: the longest valid one is about 190 characters. */
export const MAX_TOPIC_CHARS = 512;

const ALLOW: AclDecision = { ok: true };
const refuse = (reason: string): AclDecision => ({ ok: false, reason });

/** PublicKeyHex's form, as a plain regex: this runs for every message delivered. */
const KEY = /^[0-9a-f]{64}$/;
function isKey(level: string): boolean {
  return KEY.test(level);
}

export interface SiteAcl {
  readonly root: string;
  /** May `p` publish `topic` (retained when `retain`)? */
  publish(p: Principal, topic: string, retain: boolean): AclDecision;
  /** May `p` subscribe to `filter`? */
  subscribe(p: Principal, filter: string): AclDecision;
  /** May a message on `topic` be delivered to `p`? The subscribe rule, for the concrete topic. */
  forward(p: Principal, topic: string): AclDecision;
}

export function siteAcl(site: string): SiteAcl {
  const root = `${TOPIC_ROOT}/${siteTopicId(site)}`;
  const prefix = root + '/';

  /** The levels after the root, or a refusal. */
  function under(name: string, what: string): string[] | AclDecision {
    if (typeof name !== 'string' || name.length === 0) return refuse(`empty ${what}`);
    if (name.length > MAX_TOPIC_CHARS) return refuse(`${what} longer than ${MAX_TOPIC_CHARS} characters`);
    if (name.startsWith('$')) return refuse(`${what} under $SYS or another $ topic: closed to clients`);
    if (!name.startsWith(prefix)) return refuse(`${what} outside this site's root ${root}/`);
    return name.slice(prefix.length).split('/');
  }

  const coordinatorPublish = [...NODE_PUBLISH, ...RELAY_PUBLISH];
  function publishRules(p: Principal): readonly PublishRule[] {
    if (p.kind === 'admin') return ADMIN_PUBLISH;
    return p.role === 'coordinator' ? coordinatorPublish : NODE_PUBLISH;
  }

  function publish(p: Principal, topic: string, retain: boolean): AclDecision {
    const rest = under(topic, 'topic');
    if (!Array.isArray(rest)) return rest;
    if (topic.includes('+') || topic.includes('#')) return refuse('wildcards in a published topic');
    const rule = publishRules(p).find((r) => levelsMatch(r.levels, rest, p.key, 'publish'));
    if (!rule) {
      const kind = p.kind === 'admin' ? 'an admin publishes only cmd/<node>' : 'a node publishes only topics naming itself first (feed, head, node, sync, blob)';
      return refuse(`${p.kind} ${p.key} may not publish ${topic}: ${kind}`);
    }
    if (retain && !rule.retain) return refuse(`${topic} may not be retained: only heads, statuses, states and held reports are (commands never)`);
    return ALLOW;
  }

  /** Admins and coordinators read the whole site but other nodes' commands. */
  function readsAll(p: Principal): boolean {
    return p.kind === 'admin' || p.role === 'coordinator';
  }

  function subscribe(p: Principal, filter: string): AclDecision {
    const rest = under(filter, 'filter');
    if (!Array.isArray(rest)) return rest;
    if (!validFilterLevels(rest)) return refuse(`${filter} is not a valid MQTT filter`);
    if (readsAll(p)) {
      const first = rest[0];
      if (first === 'cmd' && !(p.kind === 'node' && rest.length === 2 && rest[1] === p.key)) return refuse(`${p.kind} ${p.key} may not read commands addressed to others (${filter})`);
      return ALLOW;
    }
    if (NODE_SUBSCRIBE.some((levels) => levelsMatch(levels, rest, p.key, 'subscribe'))) return ALLOW;
    return refuse(`node ${p.key} may not subscribe to ${filter}: a node reads feeds, heads, statuses, states, haves, held reports and what is addressed to it`);
  }

  function forward(p: Principal, topic: string): AclDecision {
    const rest = under(topic, 'topic');
    if (!Array.isArray(rest)) return rest;
    if (topic.includes('+') || topic.includes('#')) return refuse('wildcards in a delivered topic');
    return subscribe(p, topic);
  }

  return { root, publish, subscribe, forward };
}

/** `+` and `#` alone in their level, `#` last; no empty filter. */
function validFilterLevels(levels: readonly string[]): boolean {
  return levels.every((l, i) => (l === '#' ? i === levels.length - 1 : l === '+' || (!l.includes('+') && !l.includes('#'))));
}

/**
 * Does a topic (publish) or a filter (subscribe: every topic it matches is matched by the rule)
 * fit a rule's levels? The rules hold no `#`, so a filter with `#` never fits.
 */
function levelsMatch(rule: readonly Level[], levels: readonly string[], self: string, mode: 'publish' | 'subscribe'): boolean {
  if (rule.length !== levels.length) return false;
  for (let i = 0; i < rule.length; i++) {
    const r = rule[i]!;
    const l = levels[i]!;
    if (r === SELF) {
      if (l !== self) return false;
    } else if (r === ANY_KEY) {
      // A subscription may narrow `+` to one key; a publish names a key.
      if (!(mode === 'subscribe' && l === '+') && !isKey(l)) return false;
    } else if (l !== r) return false;
  }
  return true;
}
