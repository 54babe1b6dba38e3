/**
 * `keymesh trainer add|remove`: trainer scopes, the `trainerFor` of a member's record
 * (member.put). A scope is a certification; --resource R stands for the certifications R
 * requires.
 */
import type { ResourceValue } from '@keymesh/protocol';
import { UsageError } from '@keymesh/ledger/cli';
import { CoordinatorError } from '../../errors.js';
import { bodyOf, putMember, requireMember, setTrainerScope } from '../../admin/members.js';
import { reportSigned } from '../../admin/report.js';
import { ADMIN_FLAGS, ADMIN_HELP, withAdmin, type AdminSession } from '../../admin/session.js';
import { id, list } from '../../admin/validate.js';
import type { Command, CommandRun } from '../command.js';

const FLAGS = { ...ADMIN_FLAGS, cert: { type: 'string', multiple: true }, resource: { type: 'string', multiple: true } } as const;
const SCOPE_HELP = `  --cert CERT       a certification the trainer may grant; repeatable
  --resource R      every certification resource R requires; repeatable`;

async function scopes(r: CommandRun, s: AdminSession): Promise<string[]> {
  const certs = list(r.flags.cert).map((c) => id(c, '--cert'));
  for (const res of list(r.flags.resource)) {
    const v = (await s.target.policy(`resource/${id(res, '--resource')}`))?.value as ResourceValue | null | undefined;
    if (!v) throw new CoordinatorError('NOT_FOUND', `--resource ${res}: no such resource at ${s.target.where}; add it with \`keymesh resource add\`, or give --cert.`, { resource: res });
    if (v.requiredCerts.length === 0) throw new UsageError('USAGE', `--resource ${res} requires no certification, so there is nothing to train for; give --cert.`);
    certs.push(...v.requiredCerts);
  }
  if (certs.length === 0) throw new UsageError('USAGE', 'give --cert CERT or --resource R (repeatable). See --help.');
  return [...new Set(certs)];
}

export const trainerAdd: Command = {
  words: ['trainer', 'add'],
  usage: 'MEMBER (--cert CERT | --resource R)…',
  summary: 'let a member certify others (at a machine panel or with their own key)',
  help: `Signs a member.put whose trainer scopes include the certifications given.

${SCOPE_HELP}
${ADMIN_HELP}

Example: keymesh trainer add ada --resource laser`,
  flags: FLAGS,
  positionals: { min: 1, max: 1 },
  run: (r) => withAdmin(r, async (s) => {
    const member = id(r.positionals[0]!, 'MEMBER');
    const certs = await scopes(r, s);
    const body = await setTrainerScope(s.target, bodyOf(await requireMember(s.target, member)), certs, true);
    const signed = await putMember(s, body);
    return reportSigned(r, signed, `${member} may now certify others for ${certs.join(', ')}.`, { member, certs });
  }),
};

export const trainerRemove: Command = {
  words: ['trainer', 'remove'],
  usage: 'MEMBER (--cert CERT | --resource R)…',
  summary: 'withdraw trainer scopes (what they certified before keeps counting)',
  help: `Signs a member.put that withdraws the scopes at each of the trainer's keys' heads now:
the members they certified before stay certified; nothing they sign later counts.

${SCOPE_HELP}
${ADMIN_HELP}

Example: keymesh trainer remove ada --cert laser`,
  flags: FLAGS,
  positionals: { min: 1, max: 1 },
  run: (r) => withAdmin(r, async (s) => {
    const member = id(r.positionals[0]!, 'MEMBER');
    const certs = await scopes(r, s);
    const current = bodyOf(await requireMember(s.target, member));
    // Only scopes still current: withdrawing one again would move its positions forward.
    const active = certs.filter((c) => current.trainerFor.some((t) => t.cert === c && t.until === null));
    if (active.length === 0) throw new UsageError('USAGE', `${member} is not a current trainer for ${certs.join(', ')}; nothing to withdraw.`);
    const signed = await putMember(s, await setTrainerScope(s.target, current, active, false));
    return reportSigned(r, signed, `${member} may no longer certify for ${active.join(', ')}.`, { member, certs: active });
  }),
};
