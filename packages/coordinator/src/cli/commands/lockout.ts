/** `keymesh lockout set|lift`: a machine's lockout register (resource.lockout, DESIGN §5). */
import { reportSigned } from '../../admin/report.js';
import { ADMIN_FLAGS, ADMIN_HELP, withAdmin } from '../../admin/session.js';
import { checkBody, choice, id } from '../../admin/validate.js';
import { signAndSubmit } from '../../admin/writer.js';
import { str, type Command, type CommandRun } from '../command.js';

const FIELDS = { resource: 'RESOURCE', state: '--state', reason: '--reason', by: 'by' };

async function setLockout(r: CommandRun, state: 'now' | 'when_idle' | 'lifted', sentence: (res: string) => string): Promise<number> {
  const resource = id(r.positionals[0]!, 'RESOURCE');
  const body = checkBody('resource.lockout', { resource, state, by: null, reason: str(r, 'reason') ?? '' }, FIELDS);
  return withAdmin(r, async (s) => {
    const signed = await signAndSubmit(s.target, s.key, s.site.site, 'resource.lockout', body, [`lockout/${resource}`]);
    return reportSigned(r, signed, sentence(resource), { resource, state });
  });
}

export const lockoutSet: Command = {
  words: ['lockout', 'set'],
  usage: 'RESOURCE --state now|when_idle',
  summary: 'lock a machine out: now (power off at once) or when_idle (no new session)',
  help: `Signs a resource.lockout. now ends a session in progress; when_idle lets it run out and
starts no new one. It holds until \`keymesh lockout lift\`.

  --state now|when_idle   (required)
  --reason TEXT           why (shown at the machine and in the log)
${ADMIN_HELP}

Example: keymesh lockout set laser --state now --reason "lens cracked"`,
  flags: { ...ADMIN_FLAGS, state: { type: 'string' }, reason: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  run: (r) => {
    const state = choice(str(r, 'state', true), '--state', ['now', 'when_idle'] as const);
    return setLockout(r, state, (res) => state === 'now' ? `${res} is locked out now: nodes power it off as soon as they have this entry.` : `${res} is locked out when idle: the current session may finish, no new one starts.`);
  },
};

export const lockoutLift: Command = {
  words: ['lockout', 'lift'],
  usage: 'RESOURCE',
  summary: "lift a machine's lockout",
  help: `Signs a resource.lockout with state lifted.

  --reason TEXT   why (repaired, checked)
${ADMIN_HELP}

Example: keymesh lockout lift laser --reason "lens replaced"`,
  flags: { ...ADMIN_FLAGS, reason: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  run: (r) => setLockout(r, 'lifted', (res) => `${res}'s lockout is lifted.`),
};
