/** `keymesh member add|update|suspend|reinstate`: member records (member.put). */
import { UsageError } from '@keymesh/ledger/cli';
import { CoordinatorError } from '../../errors.js';
import { bodyOf, putMember, readMember, requireMember, withdrawKeys, type MemberBody } from '../../admin/members.js';
import { reportSigned } from '../../admin/report.js';
import { ADMIN_FLAGS, ADMIN_HELP, withAdmin } from '../../admin/session.js';
import { dateFlag, id, list, publicKey } from '../../admin/validate.js';
import { str, type Command, type CommandRun } from '../command.js';

const RECORD_FLAGS = { name: { type: 'string' }, contact: { type: 'string' }, expires: { type: 'string' } } as const;
const RECORD_HELP = `  --name NAME      the member's name
  --contact TEXT   how to reach them (email, phone)
  --expires DATE   membership paid up to: YYYY-MM-DD (to the end of that day), or never`;

function describe(expires: number | null): string {
  return expires === null ? 'no expiry' : `paid up to ${new Date(expires).toLocaleString()}`;
}

export const memberAdd: Command = {
  words: ['member', 'add'],
  usage: 'MEMBER --name NAME',
  summary: 'add a member (active)',
  help: `Signs a member.put for a new member, active. Bind their card with \`keymesh card bind\`.

${RECORD_HELP}
${ADMIN_HELP}

Example: keymesh member add ada --name "Ada Lovelace" --contact ada@example.org --expires 2027-01-31`,
  flags: { ...ADMIN_FLAGS, ...RECORD_FLAGS },
  positionals: { min: 1, max: 1 },
  async run(r) {
    const member = id(r.positionals[0]!, 'MEMBER');
    const name = str(r, 'name', true);
    const expires = str(r, 'expires');
    const validUntil = expires === undefined ? null : dateFlag(expires, '--expires');
    return withAdmin(r, async (s) => {
      if (await readMember(s.target, member)) {
        throw new CoordinatorError('REFUSED', `member "${member}" already exists; change it with \`keymesh member update ${member} …\`.`, { member });
      }
      const body: MemberBody = { member, name, contact: str(r, 'contact') ?? '', status: 'active', validUntil, keys: [], trainerFor: [] };
      const signed = await putMember(s, body);
      return reportSigned(r, signed, `Member ${member} (${name}) added, active, ${describe(validUntil)}.`, { member });
    });
  },
};

export const memberUpdate: Command = {
  words: ['member', 'update'],
  usage: 'MEMBER [--name NAME] [--contact TEXT] [--expires DATE]',
  summary: "change a member's name, contact, expiry or signing keys",
  help: `Signs a member.put with the record as the coordinator holds it and the changes given.
Naming every current head, it also resolves a conflict between concurrent edits.

${RECORD_HELP}
  --add-key KEY       let this public key sign as the member (a trainer's own key); repeatable
  --withdraw-key KEY  stop counting what KEY signs from now on (its past entries keep counting)
${ADMIN_HELP}

Example: keymesh member update ada --expires 2028-01-31`,
  flags: { ...ADMIN_FLAGS, ...RECORD_FLAGS, 'add-key': { type: 'string', multiple: true }, 'withdraw-key': { type: 'string', multiple: true } },
  positionals: { min: 1, max: 1 },
  async run(r) {
    const member = id(r.positionals[0]!, 'MEMBER');
    const expires = str(r, 'expires');
    const validUntil = expires === undefined ? undefined : dateFlag(expires, '--expires');
    const add = list(r.flags['add-key']).map((k) => publicKey(k, '--add-key'));
    const withdraw = list(r.flags['withdraw-key']).map((k) => publicKey(k, '--withdraw-key'));
    const name = str(r, 'name');
    const contact = str(r, 'contact');
    if (name === undefined && contact === undefined && validUntil === undefined && !add.length && !withdraw.length) {
      throw new UsageError('USAGE', 'nothing to change: give --name, --contact, --expires, --add-key or --withdraw-key. See --help.');
    }
    return withAdmin(r, async (s) => {
      let body = bodyOf(await requireMember(s.target, member));
      body = { ...body, name: name ?? body.name, contact: contact ?? body.contact, validUntil: validUntil === undefined ? body.validUntil : validUntil };
      for (const k of add) body = { ...body, keys: [...body.keys.filter((x) => x.key !== k), { key: k, until: null }] };
      for (const k of withdraw) {
        if (!body.keys.some((x) => x.key === k)) throw new UsageError('USAGE', `--withdraw-key ${k.slice(0, 12)}…: member ${member} has no such key.`);
        body = await withdrawKeys(s.target, body, k);
      }
      const signed = await putMember(s, body);
      return reportSigned(r, signed, `Member ${member} updated: ${body.name}, ${body.status}, ${describe(body.validUntil)}.`, { member });
    });
  },
};

async function setStatus(r: CommandRun, status: 'active' | 'suspended'): Promise<number> {
  return withAdmin(r, async (s) => {
    const member = id(r.positionals[0]!, 'MEMBER');
    let body = bodyOf(await requireMember(s.target, member));
    if (body.status === status) {
      if (r.json) await r.out.write(JSON.stringify({ ok: true, member, status, changed: false }) + '\n');
      else await r.out.write(`Member ${member} is already ${status}; nothing was signed.\n`);
      return 0;
    }
    body = { ...body, status };
    if (status === 'suspended') body = await withdrawKeys(s.target, body);
    const signed = await putMember(s, body);
    const withdrawn = body.keys.filter((k) => k.until !== null).map((k) => k.key);
    let sentence = status === 'suspended'
      ? `Member ${member} suspended: every node refuses their card once it has this entry.`
      : `Member ${member} reinstated (active).`;
    if (status === 'active' && withdrawn.length) {
      sentence += `\n  Their signing keys stay withdrawn (${withdrawn.map((k) => k.slice(0, 12) + '…').join(', ')}); give one back with \`keymesh member update ${member} --add-key KEY\`.`;
    }
    return reportSigned(r, signed, sentence, { member, status, withdrawnKeys: withdrawn });
  });
}

export const memberSuspend: Command = {
  words: ['member', 'suspend'],
  usage: 'MEMBER',
  summary: 'suspend a member: their card opens nothing, as a trainer they certify no one',
  help: `Signs a member.put with status suspended. Their signing keys (if any) are withdrawn at their
current heads, so what they certified before keeps counting and nothing signed later does.
(member.put has no reason field: keep the reason in your own records.)

${ADMIN_HELP}

Example: keymesh member suspend ada`,
  flags: { ...ADMIN_FLAGS },
  positionals: { min: 1, max: 1 },
  run: (r) => setStatus(r, 'suspended'),
};

export const memberReinstate: Command = {
  words: ['member', 'reinstate'],
  usage: 'MEMBER',
  summary: 'make a suspended member active again',
  help: `Signs a member.put with status active. Signing keys withdrawn at the suspension stay
withdrawn; give one back with \`keymesh member update MEMBER --add-key KEY\`.

${ADMIN_HELP}

Example: keymesh member reinstate ada`,
  flags: { ...ADMIN_FLAGS },
  positionals: { min: 1, max: 1 },
  run: (r) => setStatus(r, 'active'),
};
