/**
 * Trainer authority (DESIGN §5). A certification is judged against the trainer's authority
 * where it was signed: the trainer record its `deps` name, if any, and the current record's
 * positions. Positions are per key (each of a member's keys counts its own seqs): a key's
 * `until` and a withdrawn scope's per-key positions. So a trainer suspended or withdrawn later
 * does not void the members they trained, and nothing the trainer signs past those positions
 * counts, whatever older record it names. A suspension or withdrawal that names no position
 * for a key stops that key's certifications altogether (the safe reading); the admin tools
 * fill in each key's head.
 */
import type { PolicyView } from './types.js';
import type { MemberValue } from './values.js';
import { withinUntil } from './values.js';

/** Does trainer record `rec` let its key `key` certify `cert` at that key's entry `seq`? */
export function recordGrants(rec: MemberValue, key: string, seq: number, cert: string): boolean {
  const until = Object.hasOwn(rec.keys, key) ? rec.keys[key] : undefined;
  if (!withinUntil(seq, until)) return false;
  if (rec.status !== 'active' && !(typeof until === 'number' && seq <= until)) return false;
  if (!Object.hasOwn(rec.trainerFor, cert)) return false;
  const scope = rec.trainerFor[cert]!;
  return scope === null || (Object.hasOwn(scope, key) && seq <= scope[key]!);
}

/** A machine panel records a certification for a trainer whose record gives the scope now. */
export function recordAllowsPanel(rec: MemberValue, cert: string): boolean {
  return rec.status === 'active' && Object.hasOwn(rec.trainerFor, cert) && rec.trainerFor[cert] === null;
}

export type CertifyRefusal = 'UNKNOWN_RESOURCE' | 'UNKNOWN_TRAINER' | 'TRAINER_INACTIVE' | 'UNKNOWN_TRAINEE' | 'NOT_A_TRAINER' | 'ALREADY_CERTIFIED' | 'NOTHING_TO_CERTIFY';

export const CERTIFY_REFUSALS: Record<CertifyRefusal, string> = {
  UNKNOWN_RESOURCE: 'this panel is set up for a resource the rules do not know; an admin must add it',
  UNKNOWN_TRAINER: 'the first badge is not a member the rules know',
  TRAINER_INACTIVE: "the trainer's membership is suspended",
  UNKNOWN_TRAINEE: 'the second badge is not a member the rules know',
  NOT_A_TRAINER: 'the first badge is not a trainer for this machine; ask an admin to add the scope',
  ALREADY_CERTIFIED: 'the trainee already holds every certification this machine needs',
  NOTHING_TO_CERTIFY: 'this machine needs no certification',
};

export type CanCertify =
  | { ok: true; certs: string[]; deps: string[] }
  | { ok: false; reason: CertifyRefusal; message: string };

/**
 * Can `trainer` certify `trainee` at `resource` now (the panel's question when the trainer and
 * then the trainee tap)? On yes: the certs to grant, and the trainer-record heads the grants
 * must name in `deps` so they stay judged against that record.
 */
export function canCertifyAt(state: PolicyView & { headHashes(key: string): string[] }, trainer: string, trainee: string, resource: string): CanCertify {
  const no = (reason: CertifyRefusal): CanCertify => ({ ok: false, reason, message: CERTIFY_REFUSALS[reason] });
  const r = state.resource(resource);
  if (!r) return no('UNKNOWN_RESOURCE');
  if (r.requiredCerts.length === 0) return no('NOTHING_TO_CERTIFY');
  const t = state.member(trainer);
  if (!t) return no('UNKNOWN_TRAINER');
  if (t.status !== 'active') return no('TRAINER_INACTIVE');
  if (!state.member(trainee)) return no('UNKNOWN_TRAINEE');
  const scoped = r.requiredCerts.filter((c) => recordAllowsPanel(t, c));
  if (scoped.length === 0) return no('NOT_A_TRAINER');
  const certs = scoped.filter((c) => !state.certified(trainee, c));
  if (certs.length === 0) return no('ALREADY_CERTIFIED');
  return { ok: true, certs, deps: state.headHashes(`member/${trainer}`) };
}
