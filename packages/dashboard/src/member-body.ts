/**
 * A member's record as a `member.put` body, read from the coordinator at the moment of signing
 * (not the list's copy from a few seconds ago), and the positions that withdraw a key or a
 * trainer scope without voiding what was signed before (as `keymesh` does: admin/members.ts).
 */
import { MemberPut, type BodyOf } from '@keymesh/protocol';
import { api, type MemberInfo } from './api.js';

export type MemberBody = BodyOf<'member.put'>;

export async function currentMember(member: string): Promise<MemberBody | null> {
  const cur = (await api.policy<MemberInfo>(`member/${member}`))?.value;
  if (!cur) return null;
  return {
    member: cur.member, name: cur.name, contact: cur.contact, status: cur.status, validUntil: cur.validUntil,
    keys: Object.entries(cur.keys).map(([key, until]) => ({ key, until })),
    trainerFor: Object.entries(cur.trainerFor).map(([cert, until]) => ({ cert, until })),
  };
}

/** Each of `keys`' last seq that still counts, as of each key's head now. */
export async function positionsNow(keys: MemberBody['keys']): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const { key, until } of keys) {
    const seq = (await api.head(key))?.seq ?? 0;
    out[key] = until === null ? seq : Math.min(until, seq);
  }
  return out;
}

/** The body checked against the protocol's schema: a refusal names the field in words. */
export function checkMember(body: MemberBody): { ok: true; body: MemberBody } | { ok: false; code: string; message: string } {
  const r = MemberPut.safeParse(body);
  if (r.success) return { ok: true, body: r.data };
  const words = r.error.issues.map((i) => `${i.path.join('.') || 'record'}: ${i.message}`).join('; ');
  return { ok: false, code: 'BAD_INPUT', message: `${words}; nothing was signed` };
}
