/** `keymesh admin add|remove|approve|list`: the admin set (admins.change with quorum approvals). */
import { resolve } from 'node:path';
import type { Until } from '@keymesh/protocol';
import { UsageError } from '@keymesh/ledger/cli';
import { CoordinatorError } from '../../errors.js';
import {
  approve, currentAdmins, describeChange, grantsOf, neededSignatures, proposalOf, readProposal, recordOf, validApprovals,
  writeProposal, type CurrentAdmins, type ProposalFile,
} from '../../admin/admins.js';
import { reportSigned } from '../../admin/report.js';
import { ADMIN_FLAGS, ADMIN_HELP, withAdmin, type AdminSession } from '../../admin/session.js';
import { checkBody, intFlag, publicKey } from '../../admin/validate.js';
import { signAndSubmit } from '../../admin/writer.js';
import { str, type Command, type CommandRun } from '../command.js';

const FIELDS = { admins: 'KEY', quorum: '--quorum', approvals: 'the approvals' };

const QUORUM_HELP = `  --quorum N    the quorum of the new set (default: unchanged)
  --out FILE    where a proposal is written when more signatures are needed
                (default ./admins-proposal-<time>.json)`;

/** Signs the change when `approvals` and this key reach the quorum; else writes or updates the proposal file. */
async function proposeOrSubmit(r: CommandRun, s: AdminSession, cur: CurrentAdmins, next: { admins: Record<string, Until>; quorum: number }, file: { path: string; existing: ProposalFile | null }): Promise<number> {
  // An existing proposal's list is used as written: its approvals sign exactly that order.
  const body = checkBody('admins.change', { admins: file.existing?.admins ?? grantsOf(next.admins), quorum: next.quorum, approvals: [] }, FIELDS);
  const p = proposalOf(s.site.site, cur, body);
  const me = s.key.publicKey;
  if (cur.value.admins[me] !== null || !Object.hasOwn(cur.value.admins, me)) {
    throw new CoordinatorError('NOT_ADMIN', `the key in ${s.keyFile} is not a current admin; only current admins sign or approve admin-set changes.`, { key: me });
  }
  const others = file.existing ? validApprovals(file.existing, p, cur, me) : [];
  const needed = neededSignatures(cur.value, next);
  const summary = describeChange(cur.value, next);
  if (others.length + 1 >= needed) {
    const signed = await signAndSubmit(s.target, s.key, s.site.site, 'admins.change', { ...body, approvals: others }, ['admins'], { deps: cur.heads });
    // Stored is not the same as counting: say so if the change does not take effect.
    const after = await currentAdmins(s.target);
    const counts = after.heads.includes(signed.hash);
    const tail = counts ? '' : '\n  WARNING: the entry was stored but the admin set does not show it (a concurrent change, or missing approvals); run `keymesh admin list`.';
    return reportSigned(r, signed, `Admin set changed: ${summary}.${tail}`, { counts, approvals: others.length + 1, needed });
  }
  const approvals = [...others, approve(s.key, p)];
  const out: ProposalFile = { keymesh: 'admins-proposal', v: 1, site: p.site, deps: p.deps, admins: p.admins, quorum: p.quorum, approvals, summary };
  writeProposal(file.path, out, file.existing !== null);
  if (r.json) {
    await r.out.write(JSON.stringify({ ok: true, proposal: file.path, approvals: approvals.length, needed, summary }) + '\n');
  } else {
    await r.out.write(`Proposal: ${summary}.
It needs ${needed} admin signatures; it has ${approvals.length}. Nothing was submitted yet.
Send ${file.path} to another admin, who runs:
  keymesh admin approve ${file.path}
The approval that completes the quorum signs and submits the change.
`);
  }
  return 0;
}

function quorumOf(r: CommandRun, cur: CurrentAdmins): number {
  const q = str(r, 'quorum');
  return q === undefined ? cur.value.quorum : intFlag(q, '--quorum', 1, 64)!;
}

function outPath(r: CommandRun): string {
  return resolve(str(r, 'out') ?? `admins-proposal-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
}

export const adminAdd: Command = {
  words: ['admin', 'add'],
  usage: 'KEY',
  summary: 'add an admin key (a dashboard or another person), with the quorum',
  help: `Adds KEY (a public key: 64 hex characters) to the admin set. With a quorum of 1 the change
is signed and submitted at once; otherwise a proposal file is written for the other admins.

${QUORUM_HELP}
${ADMIN_HELP}

Example: keymesh admin add 9c1e…04ab`,
  flags: { ...ADMIN_FLAGS, quorum: { type: 'string' }, out: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(r) {
    const key = publicKey(r.positionals[0]!, 'KEY');
    return withAdmin(r, async (s) => {
      const cur = await currentAdmins(s.target);
      if (cur.value.admins[key] === null) throw new UsageError('USAGE', `${key.slice(0, 12)}… is already an admin; nothing to do.`);
      if (Object.hasOwn(cur.value.admins, key)) throw new UsageError('USAGE', `${key.slice(0, 12)}… was removed from the admin set; a removed key may be lost or stolen, so it is not brought back: make a new key and add that.`);
      return proposeOrSubmit(r, s, cur, { admins: { ...cur.value.admins, [key]: null }, quorum: quorumOf(r, cur) }, { path: outPath(r), existing: null });
    });
  },
};

export const adminRemove: Command = {
  words: ['admin', 'remove'],
  usage: 'KEY',
  summary: 'remove an admin key (lost, forked, leaving); its past entries keep counting',
  help: `Withdraws KEY from the admin set. Its entries up to its head now keep counting (or up to
--until SEQ, for a stolen key: the last seq its owner signed). Removing keys while keeping at
least as many needs only the admins kept, at most the quorum.

  --until SEQ   the last entry of KEY that counts (default: its head as the target holds it)
${QUORUM_HELP}
${ADMIN_HELP}

Example: keymesh admin remove 9c1e…04ab --key recovery-admin.key`,
  flags: { ...ADMIN_FLAGS, until: { type: 'string' }, quorum: { type: 'string' }, out: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(r) {
    const key = publicKey(r.positionals[0]!, 'KEY');
    const untilText = str(r, 'until');
    const until = untilText === undefined ? undefined : intFlag(untilText, '--until', 0, 2 ** 40)!;
    return withAdmin(r, async (s) => {
      const cur = await currentAdmins(s.target);
      if (cur.value.admins[key] !== null) throw new UsageError('USAGE', `${key.slice(0, 12)}… is not an active admin; \`keymesh admin list\` shows the set.`);
      const head = (await s.target.head(key))?.seq ?? 0;
      const next = { admins: { ...cur.value.admins, [key]: until ?? head }, quorum: quorumOf(r, cur) };
      const left = Object.values(next.admins).filter((u) => u === null).length;
      if (left < next.quorum) throw new UsageError('USAGE', `removing it leaves ${left} active admin${left === 1 ? '' : 's'}, fewer than the quorum ${next.quorum}: give --quorum ${Math.max(1, left)} or add an admin first.`);
      return proposeOrSubmit(r, s, cur, next, { path: outPath(r), existing: null });
    });
  },
};

export const adminApprove: Command = {
  words: ['admin', 'approve'],
  usage: 'PROPOSAL-FILE',
  summary: "approve another admin's proposed change of the admin set",
  help: `Reads a proposal written by \`keymesh admin add|remove\`, shows what it changes, and adds this
key's approval. If that completes the quorum, the change is signed and submitted; otherwise
the file is updated for the next admin. A proposal made before the admin set changed is
refused: make a new one.

${ADMIN_HELP}

Example: keymesh admin approve admins-proposal-2026-11-30T03-10-00-000Z.json`,
  flags: { ...ADMIN_FLAGS },
  positionals: { min: 1, max: 1 },
  async run(r) {
    const path = resolve(r.positionals[0]!);
    const file = readProposal(path);
    return withAdmin(r, async (s) => {
      if (file.site !== s.site.site) throw new CoordinatorError('REFUSED', `${path} is for another site (${file.site.slice(0, 16)}…); nothing was signed.`);
      const cur = await currentAdmins(s.target);
      if (file.deps.join() !== cur.heads.join()) {
        throw new CoordinatorError('REFUSED', `the admin set changed since ${path} was proposed, so its approvals no longer apply; nothing was signed. Make a new proposal with \`keymesh admin add|remove\`.`);
      }
      if (file.approvals.some((a) => a.key === s.key.publicKey)) throw new UsageError('USAGE', `this key already approved ${path}; send it to another admin.`);
      const next = { admins: recordOf(file.admins), quorum: file.quorum };
      if (!r.json) await r.out.write(`Proposal: ${describeChange(cur.value, next)}.\n`);
      return proposeOrSubmit(r, s, cur, next, { path, existing: file });
    });
  },
};

export const adminList: Command = {
  words: ['admin', 'list'],
  usage: '',
  summary: 'the admin set and its quorum',
  help: `Lists the admin keys, active or withdrawn (with the last seq that counts), and the quorum.

${ADMIN_HELP}

Example: keymesh admin list`,
  flags: { ...ADMIN_FLAGS },
  positionals: { min: 0, max: 0 },
  run: (r) => withAdmin(r, async (s) => {
    const cur = await currentAdmins(s.target);
    if (r.json) {
      await r.out.write(JSON.stringify({ ok: true, admins: grantsOf(cur.value.admins), quorum: cur.value.quorum, heads: cur.heads }) + '\n');
      return 0;
    }
    const lines = grantsOf(cur.value.admins).map((g) => `  ${g.key}  ${g.until === null ? 'active' : `removed (entries up to seq ${g.until} count)`}`);
    await r.out.write(`Admins of "${cur.value.siteName}" (quorum ${cur.value.quorum}):\n${lines.join('\n')}\n`);
    return 0;
  }, { needsKey: false }),
};
