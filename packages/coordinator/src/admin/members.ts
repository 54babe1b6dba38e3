/**
 * Member records (`member.put`, DESIGN §5). A put carries the whole record, so every change
 * starts from the record as the target holds it (the merged value when concurrent heads
 * exist; naming all of them in `deps` resolves the conflict). Trainer scopes live here too
 * (`trainerFor`).
 *
 * Positions: withdrawing a member's key, suspending a member or withdrawing a trainer scope
 * names, for each of the member's keys, the last seq of that key that still counts (its head
 * now), so what the member signed before keeps counting and nothing later does. A suspension
 * that named no position would void their past certifications too (policy/trainers.ts).
 */
import type { BodyOf, MemberValue, Until } from '@keymesh/protocol';
import { CoordinatorError } from '../errors.js';
import { checkBody, type FieldFlags } from './validate.js';
import type { AdminTarget } from './target.js';
import { signAndSubmit, type Signed } from './writer.js';
import type { AdminSession } from './session.js';

export type MemberBody = BodyOf<'member.put'>;

export const MEMBER_FLAGS: FieldFlags = {
  member: 'MEMBER', name: '--name', contact: '--contact', validUntil: '--expires', status: 'the status', keys: '--add-key', trainerFor: '--cert',
};

export async function readMember(t: AdminTarget, id: string): Promise<MemberValue | null> {
  return ((await t.policy(`member/${id}`))?.value as MemberValue | null | undefined) ?? null;
}

export async function requireMember(t: AdminTarget, id: string): Promise<MemberValue> {
  const m = await readMember(t, id);
  if (!m) throw new CoordinatorError('NOT_FOUND', `no member "${id}" at ${t.where}; add one with \`keymesh member add ${id} --name "…"\` (ids are case-sensitive).`, { member: id });
  return m;
}

/** The record as a body to change and put again. */
export function bodyOf(v: MemberValue): MemberBody {
  return {
    member: v.member, name: v.name, contact: v.contact, status: v.status, validUntil: v.validUntil,
    keys: Object.entries(v.keys).map(([key, until]) => ({ key, until })),
    trainerFor: Object.entries(v.trainerFor).map(([cert, until]) => ({ cert, until })),
  };
}

/** Each key's head seq at the target (0: it signed nothing there), capped by the `until` it already has. */
export async function positionsNow(t: AdminTarget, keys: Record<string, Until>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [k, until] of Object.entries(keys)) {
    const seq = (await t.head(k))?.seq ?? 0;
    out[k] = until === null ? seq : Math.min(until, seq);
  }
  return out;
}

/** Withdraws every key still active at its head now (suspension, key withdrawal). */
export async function withdrawKeys(t: AdminTarget, body: MemberBody, only?: string): Promise<MemberBody> {
  const active = Object.fromEntries(body.keys.filter((k) => k.until === null && (only === undefined || k.key === only)).map((k) => [k.key, k.until]));
  const at = await positionsNow(t, active);
  return { ...body, keys: body.keys.map((k) => (Object.hasOwn(at, k.key) ? { key: k.key, until: at[k.key]! } : k)) };
}

export async function putMember(s: AdminSession, body: MemberBody): Promise<Signed> {
  const checked = checkBody('member.put', body, MEMBER_FLAGS);
  return signAndSubmit(s.target, s.key, s.site.site, 'member.put', checked, [`member/${checked.member}`]);
}

/** A trainer scope for `cert`: current (null), or withdrawn at each of the member's keys' heads. */
export async function setTrainerScope(t: AdminTarget, body: MemberBody, certs: string[], on: boolean): Promise<MemberBody> {
  const scope = on ? null : await positionsNow(t, Object.fromEntries(body.keys.map((k) => [k.key, k.until])));
  const rest = body.trainerFor.filter((s) => !certs.includes(s.cert));
  return { ...body, trainerFor: [...rest, ...certs.map((cert) => ({ cert, until: scope }))] };
}
