/** `keymesh resource add|update`: doors and machines (resource.put). */
import type { BodyOf, ResourceValue } from '@keymesh/protocol';
import { UsageError } from '@keymesh/ledger/cli';
import { CoordinatorError } from '../../errors.js';
import { reportSigned } from '../../admin/report.js';
import { ADMIN_FLAGS, ADMIN_HELP, withAdmin } from '../../admin/session.js';
import { checkBody, choice, id, intFlag, list } from '../../admin/validate.js';
import { signAndSubmit } from '../../admin/writer.js';
import { str, type Command, type CommandRun } from '../command.js';

type ResourceBody = BodyOf<'resource.put'>;

const FIELDS = {
  resource: 'RESOURCE', name: '--name', kind: '--kind', requiredCerts: '--requires', schedule: 'the schedule',
  unlockSeconds: '--unlock-seconds', idleTimeoutSeconds: '--idle-timeout', maxStaleHours: '--max-stale-hours', risk: '--risk',
};

const FLAGS = {
  ...ADMIN_FLAGS,
  name: { type: 'string' }, kind: { type: 'string' }, 'unlock-seconds': { type: 'string' }, risk: { type: 'string' },
  'max-stale-hours': { type: 'string' }, 'idle-timeout': { type: 'string' }, requires: { type: 'string', multiple: true },
} as const;

const FIELD_HELP = `  --name NAME             what people call it
  --kind door|machine
  --unlock-seconds S      how long a door stays unlocked / a machine's relay closes (1-600; default 5)
  --risk normal|high      high: past --max-stale-hours only admins may use it (default: machine high, door normal)
  --max-stale-hours H     how long it may decide on rules not refreshed by sync, or none
                          (default: machine 72, door none)
  --idle-timeout S        a machine's session ends after S idle seconds, or none (default none)
  --requires CERT         a certification needed to use it; repeatable; none for nothing
                          (default: a machine requires its own id, a door nothing)`;

/** The flags given, over `base` (the current record, or the defaults of a new one). */
function apply(r: CommandRun, base: ResourceBody): ResourceBody {
  const b = { ...base };
  const name = str(r, 'name');
  if (name !== undefined) b.name = name;
  const kind = str(r, 'kind');
  if (kind !== undefined) b.kind = choice(kind, '--kind', ['door', 'machine'] as const);
  const unlock = str(r, 'unlock-seconds');
  if (unlock !== undefined) b.unlockSeconds = intFlag(unlock, '--unlock-seconds', 1, 600)!;
  const risk = str(r, 'risk');
  if (risk !== undefined) b.risk = choice(risk, '--risk', ['normal', 'high'] as const);
  const stale = str(r, 'max-stale-hours');
  if (stale !== undefined) b.maxStaleHours = intFlag(stale, '--max-stale-hours', 1, 24 * 365, true);
  const idle = str(r, 'idle-timeout');
  if (idle !== undefined) b.idleTimeoutSeconds = intFlag(idle, '--idle-timeout', 1, 86400, true);
  const req = list(r.flags.requires);
  if (req.length) b.requiredCerts = req.length === 1 && req[0] === 'none' ? [] : [...new Set(req.map((c) => id(c, '--requires')))];
  return checkBody('resource.put', b, FIELDS);
}

function describe(b: ResourceBody): string {
  return `${b.kind} "${b.name}", unlock ${b.unlockSeconds} s, risk ${b.risk}, stale after ${b.maxStaleHours === null ? 'never' : `${b.maxStaleHours} h`}, requires ${b.requiredCerts.length ? b.requiredCerts.join(', ') : 'nothing'}`;
}

export const resourceAdd: Command = {
  words: ['resource', 'add'],
  usage: 'RESOURCE --name NAME --kind door|machine',
  summary: 'add a door or a machine',
  help: `Signs a resource.put for a new resource (no schedule: open whenever the other checks pass).
Enrol its node with \`keymesh node enrol\`.

${FIELD_HELP}
${ADMIN_HELP}

Example: keymesh resource add laser --name "Laser cutter" --kind machine --unlock-seconds 10`,
  flags: FLAGS,
  positionals: { min: 1, max: 1 },
  async run(r) {
    const resource = id(r.positionals[0]!, 'RESOURCE');
    const kind = choice(str(r, 'kind', true), '--kind', ['door', 'machine'] as const);
    const machine = kind === 'machine';
    const body = apply(r, {
      resource, name: str(r, 'name', true), kind, requiredCerts: machine ? [resource] : [], schedule: null,
      unlockSeconds: 5, idleTimeoutSeconds: null, maxStaleHours: machine ? 72 : null, risk: machine ? 'high' : 'normal',
    });
    return withAdmin(r, async (s) => {
      if (await s.target.policy(`resource/${resource}`)) {
        throw new CoordinatorError('REFUSED', `resource "${resource}" already exists; change it with \`keymesh resource update ${resource} …\`.`, { resource });
      }
      const signed = await signAndSubmit(s.target, s.key, s.site.site, 'resource.put', body, [`resource/${resource}`]);
      return reportSigned(r, signed, `Resource ${resource} added: ${describe(body)}.`, { resource });
    });
  },
};

export const resourceUpdate: Command = {
  words: ['resource', 'update'],
  usage: 'RESOURCE [--name NAME] [--unlock-seconds S] …',
  summary: "change a resource's settings",
  help: `Signs a resource.put with the record as the coordinator holds it and the changes given
(its schedule is kept). Naming every current head, it also resolves a conflict.

${FIELD_HELP}
${ADMIN_HELP}

Example: keymesh resource update laser --max-stale-hours 24`,
  flags: FLAGS,
  positionals: { min: 1, max: 1 },
  async run(r) {
    const resource = id(r.positionals[0]!, 'RESOURCE');
    if (!['name', 'kind', 'unlock-seconds', 'risk', 'max-stale-hours', 'idle-timeout', 'requires'].some((f) => r.flags[f] !== undefined)) {
      throw new UsageError('USAGE', 'nothing to change: give at least one of the flags in --help.');
    }
    return withAdmin(r, async (s) => {
      const v = (await s.target.policy(`resource/${resource}`))?.value as ResourceValue | null | undefined;
      if (!v) throw new CoordinatorError('NOT_FOUND', `no resource "${resource}" at ${s.target.where}; add it with \`keymesh resource add ${resource} …\`.`, { resource });
      // Concurrent edits leave several schedules, all of which must allow a time; one put keeps the first.
      const note = v.schedules.length > 1 ? ` Its ${v.schedules.length} concurrent schedules were resolved to the first; check it on the dashboard.` : '';
      const body = apply(r, {
        resource, name: v.name, kind: v.kind, requiredCerts: v.requiredCerts, schedule: v.schedules[0] ?? null,
        unlockSeconds: v.unlockSeconds, idleTimeoutSeconds: v.idleTimeoutSeconds, maxStaleHours: v.maxStaleHours, risk: v.risk,
      });
      const signed = await signAndSubmit(s.target, s.key, s.site.site, 'resource.put', body, [`resource/${resource}`]);
      return reportSigned(r, signed, `Resource ${resource} updated: ${describe(body)}.${note}`, { resource });
    });
  },
};
