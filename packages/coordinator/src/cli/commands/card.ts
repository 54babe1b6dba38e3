/** `keymesh card bind|unbind`: cards by reference (card.bind, card.unbind). */
import type { CardUidForm, CardValue } from '@keymesh/protocol';
import { UsageError } from '@keymesh/ledger/cli';
import { refOfTyped, typedRef, UID_FORMS } from '../../admin/cards.js';
import { requireMember } from '../../admin/members.js';
import { reportSigned } from '../../admin/report.js';
import { ADMIN_FLAGS, ADMIN_HELP, withAdmin } from '../../admin/session.js';
import { checkBody, choice, id } from '../../admin/validate.js';
import { signAndSubmit } from '../../admin/writer.js';
import { dataPaths } from '../../data-dir.js';
import { str, type Command, type CommandRun } from '../command.js';

// A hex uid may be typed with spaces between its bytes (up to 32 bytes), so a card command
// takes many positionals and joins them: the parser's own count error would echo the number.
const UID_WORDS = { min: 0, max: 32 };

const CARD_HELP = `  --form F         how UID is written: hex (bytes, as a reader shows them), decimal (the
                   number printed on a fob), facility (Wiegand-26 "123,45678"). Required
                   for digits alone, which read differently as hex and as decimal
  --card-key FILE  the site card key (default: card.key in --data)`;

function cardRefOf(r: CommandRun, what: string): string {
  if (r.positionals.length === 0) throw new UsageError('USAGE', `give the card number (UID) ${what}. See --help.`);
  const f = str(r, 'form');
  const form = f === undefined ? undefined : choice<CardUidForm>(f, '--form', UID_FORMS);
  return refOfTyped(r.positionals, form, str(r, 'card-key') ?? dataPaths(r.data).cardKey);
}

export const cardBind: Command = {
  words: ['card', 'bind'],
  usage: 'UID --member MEMBER',
  summary: 'bind a card to a member (the number becomes its reference here; only that is sent)',
  help: `Turns the typed card number into its reference with the site card key and signs a
card.bind to the member. The number itself is never printed, logged or sent. A card bound
to someone else moves to this member.

  --member MEMBER  who the card belongs to (required)
${CARD_HELP}
${ADMIN_HELP}

Example: keymesh card bind 0012345678 --form decimal --member ada`,
  flags: { ...ADMIN_FLAGS, member: { type: 'string' }, form: { type: 'string' }, 'card-key': { type: 'string' } },
  positionals: UID_WORDS,
  async run(r) {
    const member = id(str(r, 'member', true), '--member');
    const card = cardRefOf(r, 'to bind');
    return withAdmin(r, async (s) => {
      await requireMember(s.target, member);
      const before = (await s.target.policy(`card/${card}`))?.value as CardValue | null | undefined;
      const body = checkBody('card.bind', { card, member }, { card: 'UID', member: '--member' });
      const signed = await signAndSubmit(s.target, s.key, s.site.site, 'card.bind', body, [`card/${card}`]);
      const was = before?.state === 'bound' && before.member !== member ? ` (it was ${before.member}'s)` : '';
      return reportSigned(r, signed, `Card ${card} bound to ${member}${was}.`, { card, member });
    });
  },
};

export const cardUnbind: Command = {
  words: ['card', 'unbind'],
  usage: '(UID | --ref REF)',
  summary: 'withdraw a card (lost, returned): it opens nothing',
  help: `Signs a card.unbind for the card, given by its number (turned into its reference here)
or by its reference (--ref, as the log and the dashboard show it).

  --ref REF        the card's reference instead of its number
  --reason TEXT    why (lost, returned, broken)
${CARD_HELP}
${ADMIN_HELP}

Example: keymesh card unbind 04:a2:2b:1a:5c:80 --reason lost`,
  flags: { ...ADMIN_FLAGS, ref: { type: 'string' }, reason: { type: 'string' }, form: { type: 'string' }, 'card-key': { type: 'string' } },
  positionals: UID_WORDS,
  async run(r) {
    const ref = str(r, 'ref');
    if (ref !== undefined && r.positionals.length) throw new UsageError('USAGE', 'give the card number or --ref, not both. See --help.');
    const card = ref !== undefined ? typedRef(ref) : cardRefOf(r, 'or --ref REF');
    const reason = str(r, 'reason') ?? '';
    return withAdmin(r, async (s) => {
      const before = (await s.target.policy(`card/${card}`))?.value as CardValue | null | undefined;
      if (!before) throw new UsageError('USAGE', `card ${card} was never bound at ${s.target.where}; check the number and --form (or the reference).`);
      const body = checkBody('card.unbind', { card, reason }, { card: ref !== undefined ? '--ref' : 'UID', reason: '--reason' });
      const signed = await signAndSubmit(s.target, s.key, s.site.site, 'card.unbind', body, [`card/${card}`]);
      return reportSigned(r, signed, `Card ${card} withdrawn${before.state === 'bound' ? ` from ${before.member}` : ''}.`, { card });
    });
  },
};
