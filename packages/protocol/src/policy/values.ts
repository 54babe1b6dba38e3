/**
 * Register values and the fail-safe rules that merge concurrent heads (DESIGN §5): revoke beats
 * grant, suspended beats active, the earliest expiry wins, a card bound to two members opens
 * nothing, trust (`until`) is the lowest any head gives. Merges are commutative and idempotent,
 * so the result never depends on arrival order.
 */
import type { Schedule } from '../schemas/bodies.js';
import type { AnyEntry, Entry } from '../schemas/entry.js';
import { compareHlc } from '../hlc.js';

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
  trainerFor: Record<string, Until>;
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
  resources: string[];
  retired: boolean;
  /** Last trusted seq of the node's feed (null: no limit). */
  lastSeq: Until;
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
      if (!(k in r)) {
        everywhere = false;
        break;
      }
      u = minUntil(u, r[k]!);
    }
    if (everywhere) out[k] = u;
  }
  return out;
}

function untilRecord(list: ReadonlyArray<{ until: Until } & ({ key: string } | { cert: string })>): Record<string, Until> {
  const out: Record<string, Until> = {};
  for (const item of list) {
    const k = 'key' in item ? item.key : item.cert;
    out[k] = k in out ? minUntil(out[k]!, item.until) : item.until;
  }
  return out;
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
    trainerFor: intersectUntils(bodies.map((b) => untilRecord(b.trainerFor))),
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
    const id = JSON.stringify(b.schedule);
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
    schedules: schedules.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
    unlockSeconds: Math.min(...bodies.map((b) => b.unlockSeconds)),
    idleTimeoutSeconds: minNullable(bodies.map((b) => b.idleTimeoutSeconds)),
    maxStaleHours: minNullable(bodies.map((b) => b.maxStaleHours)),
    risk: bodies.some((b) => b.risk === 'high') ? 'high' : 'normal',
  };
}

export function mergeNode(heads: Head[]): NodeValue {
  const enrols = heads.filter((h) => h.entry.type === 'node.enrol').map((h) => h.entry as Entry<'node.enrol'>);
  const retires = heads.filter((h) => h.entry.type === 'node.retire').map((h) => h.entry as Entry<'node.retire'>);
  const top = enrols.length ? newestHead(heads.filter((h) => h.entry.type === 'node.enrol')).entry as Entry<'node.enrol'> : null;
  let resources = top ? top.body.resources : [];
  for (const e of enrols) resources = resources.filter((r) => e.body.resources.includes(r));
  let lastSeq: Until = null;
  for (const r of retires) lastSeq = minUntil(lastSeq, r.body.lastSeq);
  return {
    node: (heads[0]!.entry as Entry<'node.enrol' | 'node.retire'>).body.node,
    name: top?.body.name ?? '',
    role: top?.body.role ?? 'edge',
    resources: [...new Set(resources)].sort(),
    retired: retires.length > 0,
    // A retired node is trusted up to the lowest lastSeq any retirement names.
    lastSeq,
  };
}
