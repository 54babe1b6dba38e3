/**
 * Register values and the fail-safe rules that merge concurrent heads (DESIGN §5): revoke beats
 * grant, suspended beats active, the earliest expiry wins, a card bound to two members opens
 * nothing, trust (`until`) is the lowest any head gives. Merges are commutative and idempotent,
 * so the result never depends on arrival order.
 */
import type { Schedule } from '../schemas/bodies.js';
import type { AnyEntry, Entry } from '../schemas/entry.js';
import { compareHlc } from '../hlc.js';
import { canonicalString } from '../canonical.js';
import type { StoredEntry } from './stored.js';

export type Until = number | null;

export interface AdminsValue {
  siteName: string;
  /** admin key → last trusted seq of its feed (null: fully trusted). */
  admins: Record<string, Until>;
  quorum: number;
}
export interface MemberValue {
  member: string;
  name: string;
  contact: string;
  status: 'active' | 'suspended';
  validUntil: number | null;
  keys: Record<string, Until>;
  /** cert → null (current) or, once withdrawn, each key's last seq that still counts. */
  trainerFor: Record<string, ScopePositions | null>;
}
export type ScopePositions = Record<string, number>;
export interface LockoutValue {
  resource: string;
  state: 'now' | 'when_idle' | 'lifted';
  /** Member who set it at the machine (null: an admin). */
  by: string | null;
  reason: string;
}
export type CardValue =
  | { card: string; state: 'bound'; member: string }
  | { card: string; state: 'unbound' }
  | { card: string; state: 'conflict'; members: string[] };
export interface CertValue {
  member: string;
  cert: string;
  granted: boolean;
  /** Trainer member id, or null for an admin's direct grant/revoke. */
  by: string | null;
}
export interface ResourceValue {
  resource: string;
  name: string;
  kind: 'door' | 'machine';
  requiredCerts: string[];
  /** Every schedule here must allow the time (several only after concurrent edits). Empty: always. */
  schedules: Schedule[];
  unlockSeconds: number;
  idleTimeoutSeconds: number | null;
  maxStaleHours: number | null;
  risk: 'normal' | 'high';
}
export interface NodeValue {
  node: string;
  name: string;
  role: 'edge' | 'coordinator';
  /** Resources it controls now: panels certify and lock out only for these. */
  resources: string[];
  /** Every resource any enrolment gave it: its recorded history stays trusted (DESIGN §10). */
  everResources: string[];
  retired: boolean;
  /** Last trusted seq of the node's feed (null: no limit). */
  lastSeq: Until;
}

export interface BundleValue {
  manifest: string;
  version: string;
  size: number;
  /** 'all', or the node keys that should run it. */
  targets: 'all' | string[];
}

export interface Head {
  hash: string;
  entry: AnyEntry;
}

/** The lower of two trust limits; null means unlimited. */
export function minUntil(a: Until, b: Until): Until {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

export function withinUntil(seq: number, until: Until | undefined): boolean {
  return until !== undefined && (until === null || seq <= until);
}

/** Deterministic pick among heads for fields with no safe order (names): latest HLC, then hash. */
export function newestHead(heads: Head[]): Head {
  let best = heads[0]!;
  for (const h of heads.slice(1)) {
    const c = compareHlc(h.entry.hlc, best.entry.hlc);
    if (c > 0 || (c === 0 && h.hash > best.hash)) best = h;
  }
  return best;
}

/** Keys present in every record, each with the lowest limit any gives. */
export function intersectUntils(records: Record<string, Until>[]): Record<string, Until> {
  const out: Record<string, Until> = {};
  const [first, ...rest] = records;
  if (!first) return out;
  for (const k of Object.keys(first).sort()) {
    let u: Until = first[k]!;
    let everywhere = true;
    for (const r of rest) {
      if (!Object.hasOwn(r, k)) {
        everywhere = false;
        break;
      }
      u = minUntil(u, r[k]!);
    }
    if (everywhere) out[k] = u;
  }
  return out;
}

function untilRecord(list: ReadonlyArray<{ key: string; until: Until }>): Record<string, Until> {
  const out: Record<string, Until> = {};
  for (const item of list) out[item.key] = Object.hasOwn(out, item.key) ? minUntil(out[item.key]!, item.until) : item.until;
  return out;
}

/** The stricter of two scope positions: null is unlimited; a key missing from a record counts for nothing. */
export function minPositions(a: ScopePositions | null, b: ScopePositions | null): ScopePositions | null {
  if (a === null) return b;
  if (b === null) return a;
  const out: ScopePositions = {};
  for (const k of Object.keys(a).sort()) if (Object.hasOwn(b, k)) out[k] = Math.min(a[k]!, b[k]!);
  return out;
}

/** Certs present in every record, each with the strictest positions any gives. */
function intersectScopes(records: Array<Record<string, ScopePositions | null>>): Record<string, ScopePositions | null> {
  const out: Record<string, ScopePositions | null> = {};
  const [first, ...rest] = records;
  if (!first) return out;
  for (const c of Object.keys(first).sort()) {
    if (!rest.every((r) => Object.hasOwn(r, c))) continue;
    out[c] = rest.reduce<ScopePositions | null>((acc, r) => minPositions(acc, r[c]!), first[c]!);
  }
  return out;
}

function scopeRecord(list: ReadonlyArray<{ cert: string; until: ScopePositions | null }>): Record<string, ScopePositions | null> {
  const out: Record<string, ScopePositions | null> = {};
  for (const item of list) out[item.cert] = Object.hasOwn(out, item.cert) ? minPositions(out[item.cert]!, item.until) : sortedPositions(item.until);
  return out;
}

function sortedPositions(p: ScopePositions | null): ScopePositions | null {
  return p === null ? null : Object.fromEntries(Object.keys(p).sort().map((k) => [k, p[k]!]));
}

export function mergeMember(heads: Head[]): MemberValue {
  const bodies = heads.map((h) => (h.entry as Entry<'member.put'>).body);
  const top = (newestHead(heads).entry as Entry<'member.put'>).body;
  let validUntil: number | null = null;
  for (const b of bodies) validUntil = b.validUntil === null ? validUntil : validUntil === null ? b.validUntil : Math.min(validUntil, b.validUntil);
  return {
    member: top.member,
    name: top.name,
    contact: top.contact,
    status: bodies.some((b) => b.status === 'suspended') ? 'suspended' : 'active',
    validUntil,
    keys: intersectUntils(bodies.map((b) => untilRecord(b.keys))),
    trainerFor: intersectScopes(bodies.map((b) => scopeRecord(b.trainerFor))),
  };
}

export function mergeCard(card: string, heads: Head[]): CardValue {
  const members = new Set<string>();
  for (const h of heads) {
    if (h.entry.type === 'card.unbind') return { card, state: 'unbound' };
    if (h.entry.type === 'card.bind') members.add(h.entry.body.member);
  }
  const list = [...members].sort();
  if (list.length === 1) return { card, state: 'bound', member: list[0]! };
  return { card, state: 'conflict', members: list };
}

export function mergeCert(member: string, cert: string, heads: Head[]): CertValue {
  const revokes = heads.filter((h) => h.entry.type === 'cert.revoke');
  if (revokes.length) {
    const e = newestHead(revokes).entry as Entry<'cert.revoke'>;
    return { member, cert, granted: false, by: e.body.revokedBy };
  }
  const e = newestHead(heads).entry as Entry<'cert.grant'>;
  return { member, cert, granted: true, by: e.body.grantedBy };
}

export function mergeResource(heads: Head[]): ResourceValue {
  const bodies = heads.map((h) => (h.entry as Entry<'resource.put'>).body);
  const top = (newestHead(heads).entry as Entry<'resource.put'>).body;
  const minNullable = (vals: (number | null)[]) => {
    const nums = vals.filter((v): v is number => v !== null);
    return nums.length ? Math.min(...nums) : null;
  };
  const schedules: Schedule[] = [];
  const seen = new Set<string>();
  for (const b of bodies) {
    if (!b.schedule) continue;
    const id = canonicalString(b.schedule);
    if (!seen.has(id)) {
      seen.add(id);
      schedules.push(b.schedule);
    }
  }
  return {
    resource: top.resource,
    name: top.name,
    kind: top.kind,
    requiredCerts: [...new Set(bodies.flatMap((b) => b.requiredCerts))].sort(),
    schedules: schedules.sort((a, b) => (canonicalString(a) < canonicalString(b) ? -1 : 1)),
    unlockSeconds: Math.min(...bodies.map((b) => b.unlockSeconds)),
    idleTimeoutSeconds: minNullable(bodies.map((b) => b.idleTimeoutSeconds)),
    maxStaleHours: minNullable(bodies.map((b) => b.maxStaleHours)),
    risk: bodies.some((b) => b.risk === 'high') ? 'high' : 'normal',
  };
}

/**
 * `heads` decide the node's current resources and retirement; `enrols` (every effective
 * enrolment of the node, superseded ones included) give the resources its history may name, so
 * retiring a node or narrowing it never voids what it recorded before.
 */
export function mergeNode(heads: Head[], enrols: ReadonlyArray<Entry<'node.enrol'>>): NodeValue {
  const headEnrols = heads.filter((h) => h.entry.type === 'node.enrol');
  const retires = heads.filter((h) => h.entry.type === 'node.retire').map((h) => h.entry as Entry<'node.retire'>);
  const top = headEnrols.length ? newestHead(headEnrols).entry as Entry<'node.enrol'> : null;
  let resources: string[];
  if (top) {
    resources = top.body.resources;
    for (const h of headEnrols) resources = resources.filter((r) => (h.entry as Entry<'node.enrol'>).body.resources.includes(r));
  } else {
    // Only retirements at the head: the node keeps what its enrolments gave it, up to lastSeq.
    resources = enrols.flatMap((e) => e.body.resources);
  }
  let lastSeq: Until = null;
  for (const r of retires) lastSeq = minUntil(lastSeq, r.body.lastSeq);
  const named = enrols.length ? enrols : top ? [top] : [];
  const newest = named.length ? named.reduce((a, b) => (compareHlc(b.hlc, a.hlc) > 0 ? b : a)) : null;
  return {
    node: (heads[0]!.entry as Entry<'node.enrol' | 'node.retire'>).body.node,
    name: top?.body.name ?? newest?.body.name ?? '',
    role: top?.body.role ?? newest?.body.role ?? 'edge',
    resources: [...new Set(resources)].sort(),
    everResources: [...new Set(enrols.flatMap((e) => e.body.resources))].sort(),
    retired: retires.length > 0,
    // A retired node is trusted up to the lowest lastSeq any retirement names.
    lastSeq,
  };
}

const LOCKOUT_ORDER = { lifted: 0, when_idle: 1, now: 2 } as const;

/** Concurrent lockouts resolve to the strictest: now > when_idle > lifted. */
export function mergeLockout(heads: Head[]): LockoutValue {
  const bodies = heads.map((h) => (h.entry as Entry<'resource.lockout'>).body);
  const strictest = Math.max(...bodies.map((b) => LOCKOUT_ORDER[b.state]));
  const picked = heads.filter((h) => LOCKOUT_ORDER[(h.entry as Entry<'resource.lockout'>).body.state] === strictest);
  const b = (newestHead(picked).entry as Entry<'resource.lockout'>).body;
  return { resource: b.resource, state: b.state, by: b.by, reason: b.reason };
}

/**
 * Concurrent publications of one manifest: a node runs it only if every head targets it (a
 * narrower rollout is the safe side); version and size from the newest head.
 */
export function mergeBundle(heads: Head[]): BundleValue {
  const bodies = heads.map((h) => (h.entry as Entry<'bundle.publish'>).body);
  const top = (newestHead(heads).entry as Entry<'bundle.publish'>).body;
  let targets: 'all' | string[] = 'all';
  for (const b of bodies) {
    if (b.targets === 'all') continue;
    const list = b.targets;
    targets = targets === 'all' ? [...new Set(list)].sort() : targets.filter((t) => list.includes(t));
  }
  return { manifest: top.manifest, version: top.version, size: top.size, targets };
}

/**
 * An enrolment that replaces a node's key, as that old key's register reads it: a retirement
 * at the seq it names, but never past a retirement or replacement of that key it supersedes
 * (names in `deps`, directly or through other replacements). A replacement retires; it never
 * trusts again what an earlier retirement cut off (a stolen node's entries after it, which a
 * dashboard may count in the old feed's head). Re-enrolling the old key is how trust returns.
 * `counting(hash)`: the stored entry if it counts.
 */
export function replacementAsRetirement(s: StoredEntry, counting: (hash: string) => StoredEntry | undefined): StoredEntry {
  const e = s.entry as Entry<'node.enrol'>;
  const r = e.body.replaces!;
  let lastSeq = r.lastSeq;
  // Iterative: an author controls how long a deps chain is.
  const seen = new Set<string>();
  const queue = [...e.deps];
  while (queue.length) {
    const d = queue.pop()!;
    if (seen.has(d)) continue;
    seen.add(d);
    const named = counting(d)?.entry;
    if (named?.type === 'node.retire' && named.body.node === r.node) lastSeq = Math.min(lastSeq, named.body.lastSeq);
    else if (named?.type === 'node.enrol' && named.body.replaces?.node === r.node) {
      lastSeq = Math.min(lastSeq, named.body.replaces.lastSeq);
      queue.push(...named.deps);
    }
  }
  const entry: Entry<'node.retire'> = { ...e, type: 'node.retire', body: { node: r.node, lastSeq, reason: `key replaced by ${e.body.node}` } };
  return { hash: s.hash, entry, key: `node/${r.node}` };
}
