/**
 * Cards (DESIGN §3): a typed uid becomes its reference here, with the site card key, and only
 * the reference goes further. The uid is a cloneable secret, so it is never echoed: not in an
 * error (the protocol's message for an empty or oversized uid quotes the text, so it is
 * replaced), not in the output, not in what is sent.
 */
import { cardRef, CardRef, normaliseCardUid, ProtocolError, type CardUidForm } from '@keymesh/protocol';
import { UsageError } from '@keymesh/ledger/cli';
import { readCardKey } from '../data-dir.js';

export const UID_FORMS: readonly CardUidForm[] = ['hex', 'decimal', 'facility'];

/**
 * The reference of the card typed as `words` (positionals: a hex uid may be typed with spaces
 * between its bytes) read as `form`. Digits alone are a valid hex uid and a valid decimal
 * number with different meanings, so without --form they are refused rather than guessed.
 */
export function refOfTyped(words: readonly string[], form: CardUidForm | undefined, cardKeyFile: string): string {
  const text = words.join(' ').trim();
  let f = form;
  if (f === undefined) {
    if (/^[0-9]+$/.test(text)) throw new UsageError('USAGE', 'the card number is digits only, which reads differently as hex and as decimal: add --form decimal (the number printed on a fob) or --form hex (what a reader shows as bytes).');
    f = /^\d{1,3},\d{1,5}$/.test(text) ? 'facility' : 'hex';
  }
  let uid;
  try {
    uid = normaliseCardUid(text, f);
  } catch (err) {
    if (err instanceof ProtocolError && err.code === 'BAD_CARD_UID') {
      const rule = { hex: 'whole bytes of hex digits, optionally separated by : - or a space', decimal: 'digits only, the number printed on the fob', facility: 'facility (0-255), a comma, number (0-65535), as printed: 123,45678' }[f];
      throw new UsageError('USAGE', `UID is not a card number of --form ${f} (${rule}, at most 32 bytes). The number is not repeated here.`);
    }
    throw err;
  }
  return cardRef(readCardKey(cardKeyFile), uid);
}

/** A reference typed with --ref. */
export function typedRef(value: string): string {
  const v = value.trim().toLowerCase();
  if (!CardRef.safeParse(v).success) throw new UsageError('USAGE', '--ref: give the card reference, 32 hex characters (the log and the dashboard show it), or the card number itself without --ref.');
  return v;
}
