/**
 * Whether an entry counts: its author held the authority for it at the position it claims in
 * its feed (DESIGN §3, §5). Layered so it cannot loop: admins → nodes, members, cards,
 * resources → certifications (admin, trainer: trainers.ts) → lockouts and access events.
 */
import type { Entry } from '../schemas/entry.js';
import { recordAllowsPanel, recordGrants } from './trainers.js';
import type { StoredEntry } from './stored.js';
import { mergeMember, withinUntil, type Head, type MemberValue, type NodeValue, type ResourceValue } from './values.js';

/** What judging authority reads of the state. */
export interface AuthorityView {
  isAdminKey(author: string, seq: number): boolean;
  isForkedOut(author: string, seq: number): boolean;
  /** Does this admin entry (genesis or change) count (admin-set.ts)? */
  adminEntryCounts(hash: string): boolean;
  /** The node as trusted for its entry `seq` (enrolled, not retired before it). */
  trustedNode(author: string, seq: number): NodeValue | undefined;
  member(id: string): MemberValue | undefined;
  resource(id: string): ResourceValue | undefined;
  certified(member: string, cert: string): boolean;
  /** Was the certification ever granted (a grant that counts, even if revoked since)? */
  everCertified(member: string, cert: string): boolean;
  /** The stored entry `hash` if it writes `key` and counts. */
  countingEntry(hash: string, key: string): Head | undefined;
}

export function entryCounts(v: AuthorityView, s: StoredEntry): boolean {
  const e = s.entry;
  // The admin set judges forks itself: the genesis is the site and is never forked out.
  if (e.type === 'site.genesis' || e.type === 'admins.change') return v.adminEntryCounts(s.hash);
  if (v.isForkedOut(e.author, e.seq)) return false;
  switch (e.type) {
    case 'node.enrol':
    case 'node.retire':
    case 'member.put':
    case 'card.bind':
    case 'card.unbind':
    case 'resource.put':
    case 'bundle.publish':
      return v.isAdminKey(e.author, e.seq);
    case 'cert.grant':
    case 'cert.revoke':
      return v.isAdminKey(e.author, e.seq) || trainerMayCertify(v, e);
    case 'resource.lockout':
      return v.isAdminKey(e.author, e.seq) || memberMayLockOut(v, e);
    default:
      return eventCounts(v, e.author, e.seq, (e.body as { resource: string }).resource);
  }
}

/** Does an access event by `author` (entry `seq`) about `resource` count? Judged against every resource the node was ever enrolled for, so history outlives retirement. */
export function eventCounts(v: AuthorityView, author: string, seq: number, resource: string): boolean {
  if (v.isForkedOut(author, seq)) return false;
  return !!v.trustedNode(author, seq)?.everResources.includes(resource);
}

/**
 * The emergency button: `now` only, on a machine that needs a certification. Recorded by the
 * machine's node for a member who holds, or once held, its certifications (so revoking the
 * presser's certification later does not lift the stop), or signed with the member's own key
 * while the member is active and certified.
 */
function memberMayLockOut(v: AuthorityView, e: Entry<'resource.lockout'>): boolean {
  const { by, resource, state } = e.body;
  if (state !== 'now' || by === null) return false;
  const r = v.resource(resource);
  const m = v.member(by);
  if (!r || !m || r.kind !== 'machine' || r.requiredCerts.length === 0) return false;
  if (v.trustedNode(e.author, e.seq)?.everResources.includes(resource)) return r.requiredCerts.every((c) => v.everCertified(by, c));
  if (!Object.hasOwn(m.keys, e.author) || !withinUntil(e.seq, m.keys[e.author])) return false;
  return m.status === 'active' && r.requiredCerts.every((c) => v.certified(by, c));
}

function trainerMayCertify(v: AuthorityView, e: Entry<'cert.grant'> | Entry<'cert.revoke'>): boolean {
  const trainerId = e.type === 'cert.grant' ? e.body.grantedBy : e.body.revokedBy;
  if (trainerId === null) return false;
  const current = v.member(trainerId);
  if (!current) return false;
  const claimed = claimedRecord(v, e.deps, trainerId);
  const cert = e.body.cert;
  // Signed with one of the trainer's own keys: judged at that key's position.
  if (Object.hasOwn(current.keys, e.author) || (claimed && Object.hasOwn(claimed.keys, e.author))) {
    return recordGrants(current, e.author, e.seq, cert) && (!claimed || recordGrants(claimed, e.author, e.seq, cert));
  }
  // Recorded by a machine panel where the trainer tapped in: the node must have been enrolled
  // for a resource that requires this cert (narrowing it later keeps its history), and the
  // trainer record the panel named (else the current one) must give the scope.
  const node = v.trustedNode(e.author, e.seq);
  if (!node || !node.everResources.some((r) => v.resource(r)?.requiredCerts.includes(cert))) return false;
  return recordAllowsPanel(claimed ?? current, cert);
}

/** The trainer record an entry names in its `deps` (merged, if several), or undefined. */
function claimedRecord(v: AuthorityView, deps: readonly string[], member: string): MemberValue | undefined {
  const named: Head[] = [];
  for (const d of deps) {
    const h = v.countingEntry(d, `member/${member}`);
    if (h) named.push(h);
  }
  return named.length ? mergeMember(named) : undefined;
}
