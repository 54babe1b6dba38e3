/**
 * Changing the admin set (admins.change, DESIGN §3): the whole new set, approved by the quorum
 * of the set it replaces. The entry's author is one approval; the others are detached
 * signatures over the proposal (site, deps, admins, quorum: protocol policy/admins.ts). With a
 * quorum of one the author alone signs. With more, the proposer writes a proposal file holding
 * its own approval; each admin runs `keymesh admin approve FILE`, adding theirs, and the one
 * whose signature completes the quorum signs the entry with the others' approvals and submits.
 *
 * The approvals are bound to `deps` (the admin heads when proposed): if the admin set changed
 * since, the proposal is refused as stale rather than signed with other deps (its approvals
 * would not verify, and the change would be stored without counting).
 */
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { AdminGrant, Approval, approvalIsValid, approveAdminsChange, HashHex, type AdminsProposal, type AdminsValue, type BodyOf, type KeyPair, type Until } from '@keymesh/protocol';
import { CoordinatorError } from '../errors.js';
import { writeFileAtomic } from '../files.js';
import type { AdminTarget } from './target.js';

export const ProposalFile = z.strictObject({
  keymesh: z.literal('admins-proposal'),
  v: z.literal(1),
  site: HashHex,
  deps: z.array(HashHex).max(64),
  admins: z.array(AdminGrant).min(1).max(64),
  quorum: z.number().int().min(1).max(64),
  approvals: z.array(Approval).max(64),
  /** What it does, in words, for the admins asked to approve it (informative; the fields above are what is signed). */
  summary: z.string().max(2000),
});
export type ProposalFile = z.infer<typeof ProposalFile>;

export interface CurrentAdmins {
  value: AdminsValue;
  heads: string[];
}

export async function currentAdmins(t: AdminTarget): Promise<CurrentAdmins> {
  const reg = await t.policy('admins');
  if (!reg || !reg.value) throw new CoordinatorError('BAD_DATA_FILE', `${t.where} holds no admin set; is this the right --data?`);
  return { value: reg.value as AdminsValue, heads: [...reg.heads].sort() };
}

const active = (admins: Record<string, Until>) => Object.keys(admins).filter((k) => Object.hasOwn(admins, k) && admins[k] === null);

/**
 * Signatures a change needs under the current set, the author's included: its quorum, except a
 * change that only withdraws admins (adds or re-activates none, raises no quorum) and keeps at
 * least as many as it withdraws needs no more than the admins it keeps (so a lost key is removed
 * by the others). The same rule as protocol policy/admin-set.ts neededFor.
 */
export function neededSignatures(parent: AdminsValue, next: { admins: Record<string, Until>; quorum: number }): number {
  const before = active(parent.admins);
  const after = new Set(active(next.admins));
  if ([...after].some((k) => parent.admins[k] !== null || !Object.hasOwn(parent.admins, k)) || next.quorum > parent.quorum) return parent.quorum;
  const kept = before.filter((k) => after.has(k)).length;
  const withdrawn = before.length - kept;
  return withdrawn > 0 && withdrawn <= kept ? Math.min(parent.quorum, kept) : parent.quorum;
}

export function grantsOf(admins: Record<string, Until>): Array<{ key: string; until: Until }> {
  return Object.entries(admins).map(([key, until]) => ({ key, until })).sort((a, b) => (a.key < b.key ? -1 : 1));
}

export function recordOf(grants: ReadonlyArray<{ key: string; until: Until }>): Record<string, Until> {
  return Object.fromEntries(grants.map((g) => [g.key, g.until]));
}

export function proposalOf(site: string, cur: CurrentAdmins, body: { admins: BodyOf<'admins.change'>['admins']; quorum: number }): AdminsProposal {
  return { site, deps: cur.heads, admins: body.admins, quorum: body.quorum };
}

/** The approvals in `file` that verify and come from admins active now, other than `author`. */
export function validApprovals(file: Pick<ProposalFile, 'approvals'>, p: AdminsProposal, cur: CurrentAdmins, author: string): Array<{ key: string; sig: string }> {
  const seen = new Set<string>();
  return file.approvals.filter((a) => {
    if (a.key === author || seen.has(a.key) || cur.value.admins[a.key] !== null || !Object.hasOwn(cur.value.admins, a.key)) return false;
    if (!approvalIsValid(a, p)) return false;
    seen.add(a.key);
    return true;
  });
}

export function approve(key: KeyPair, p: AdminsProposal): { key: string; sig: string } {
  return approveAdminsChange(key, p);
}

export function readProposal(path: string): ProposalFile {
  let json: unknown;
  try {
    // 64 approvals and 64 admins fit in far less; a larger file is not one this tool wrote.
    if (statSync(path).size > 256 * 1024) throw new Error('larger than 256 KiB');
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CoordinatorError('BAD_DATA_FILE', `${path} cannot be read as a proposal (${(err as Error).message}); ask its author for the file again.`, { path });
  }
  const r = ProposalFile.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new CoordinatorError('BAD_DATA_FILE', `${path} is not an admin-set proposal: field "${i?.path.join('.')}" ${i?.message}.`, { path });
  }
  return r.data;
}

export function writeProposal(path: string, p: ProposalFile, overwrite: boolean): void {
  writeFileAtomic(path, JSON.stringify(p, null, 2) + '\n', { overwrite });
}

/** The change in words: who is added, who withdrawn, the quorum. */
export function describeChange(parent: AdminsValue, next: { admins: Record<string, Until>; quorum: number }): string {
  const short = (k: string) => `${k.slice(0, 12)}…`;
  const added = active(next.admins).filter((k) => parent.admins[k] !== null || !Object.hasOwn(parent.admins, k));
  const removed = active(parent.admins).filter((k) => next.admins[k] !== null);
  const parts = [
    ...added.map((k) => `add admin ${short(k)}`),
    ...removed.map((k) => `remove admin ${short(k)} (its entries up to seq ${next.admins[k] ?? 0} keep counting)`),
  ];
  if (next.quorum !== parent.quorum) parts.push(`quorum ${parent.quorum} → ${next.quorum}`);
  return `${parts.join('; ') || 'no change'}; ${active(next.admins).length} active admins, quorum ${next.quorum}`;
}
