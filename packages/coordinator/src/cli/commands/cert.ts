/** `keymesh cert grant|revoke`: certifications granted directly by an admin. */
import { requireMember } from '../../admin/members.js';
import { reportSigned } from '../../admin/report.js';
import { ADMIN_FLAGS, ADMIN_HELP, withAdmin } from '../../admin/session.js';
import { checkBody, id } from '../../admin/validate.js';
import { signAndSubmit } from '../../admin/writer.js';
import { str, type Command } from '../command.js';

const FIELDS = { member: 'MEMBER', cert: 'CERT', note: '--note', reason: '--reason' };

export const certGrant: Command = {
  words: ['cert', 'grant'],
  usage: 'MEMBER CERT',
  summary: 'certify a member (CERT: what a resource requires, usually its id)',
  help: `Signs a cert.grant: the member may use resources that require CERT (a machine added
with \`keymesh resource add\` requires its own id unless --requires said otherwise).

  --note TEXT   what the induction covered
${ADMIN_HELP}

Example: keymesh cert grant ada laser --note "induction 2026-11-30"`,
  flags: { ...ADMIN_FLAGS, note: { type: 'string' } },
  positionals: { min: 2, max: 2 },
  async run(r) {
    const member = id(r.positionals[0]!, 'MEMBER');
    const cert = id(r.positionals[1]!, 'CERT');
    return withAdmin(r, async (s) => {
      await requireMember(s.target, member);
      const body = checkBody('cert.grant', { member, cert, grantedBy: null, note: str(r, 'note') ?? '' }, FIELDS);
      const signed = await signAndSubmit(s.target, s.key, s.site.site, 'cert.grant', body, [`cert/${member}/${cert}`]);
      return reportSigned(r, signed, `${member} is certified for ${cert}.`, { member, cert });
    });
  },
};

export const certRevoke: Command = {
  words: ['cert', 'revoke'],
  usage: 'MEMBER CERT',
  summary: "withdraw a member's certification",
  help: `Signs a cert.revoke. A revoke wins over a grant made concurrently elsewhere.

  --reason TEXT   why
${ADMIN_HELP}

Example: keymesh cert revoke ada laser --reason "unsafe use"`,
  flags: { ...ADMIN_FLAGS, reason: { type: 'string' } },
  positionals: { min: 2, max: 2 },
  async run(r) {
    const member = id(r.positionals[0]!, 'MEMBER');
    const cert = id(r.positionals[1]!, 'CERT');
    return withAdmin(r, async (s) => {
      const body = checkBody('cert.revoke', { member, cert, revokedBy: null, reason: str(r, 'reason') ?? '' }, FIELDS);
      const signed = await signAndSubmit(s.target, s.key, s.site.site, 'cert.revoke', body, [`cert/${member}/${cert}`]);
      return reportSigned(r, signed, `${member}'s certification for ${cert} is revoked.`, { member, cert });
    });
  },
};
