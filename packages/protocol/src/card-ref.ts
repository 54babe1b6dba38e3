/**
 * Card references (DESIGN §3). A badge's uid is a cloneable secret, so entries, messages, logs
 * and the dashboard carry `cardRef(siteCardKey, uid)`: the first 16 bytes of
 * HMAC-SHA256(site card key, uid) in hex. The site card key is made with the site, handed to
 * enrolled edges and admin tools, and never published or stored in the ledger.
 *
 * One card must give one reference wherever its uid comes from, or an admin who types the
 * number of a lost fob unbinds a reference no reader produces and the fob keeps opening. So
 * `cardRef` takes a uid only in its canonical form, the uid's bytes as lowercase hex (1-32
 * bytes), and refuses any other spelling; `normaliseCardUid(text, form)` makes that form from
 * what a reader reports or a person types:
 * - 'hex': the uid bytes in hex, any case, with or without 0x and : - or space between bytes
 *   (MIFARE/NFC readers; EM4100 serial readers once their version byte is dropped);
 * - 'decimal': the number printed on a fob or typed by a keyboard-wedge reader, big-endian, at
 *   least 4 bytes, leading zeros ignored (so "0012345678" is 00 bc 61 4e, as a reader's
 *   32-bit number 00bc614e);
 * - 'facility': the Wiegand-26 print "123,45678" (facility 0-255, number 0-65535): 3 bytes.
 * The 10-digit number and the facility print of one EM4100 fob are different uids (32 and 24
 * bits): enrol the one this site's readers report. Pure JS (@noble/hashes), so the browser
 * makes the same references.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { fromHex, toHex, utf8 } from './bytes.js';
import { defaultCrypto, type CryptoProvider } from './crypto/index.js';
import { ProtocolError } from './errors.js';
import { hex } from './keys.js';

export const SITE_CARD_KEY_BYTES = 32;
/** Bytes of the HMAC kept: 128 bits, no collision among any site's cards. */
export const CARD_REF_BYTES = 16;

/** The site card key, lowercase hex (kept in the site's setup and provisioning files, never in the ledger). */
export const SiteCardKey = hex(SITE_CARD_KEY_BYTES);
export type SiteCardKey = z.infer<typeof SiteCardKey>;

/** Most bytes a uid has (ISO 14443 uids are 4, 7 or 10; ISO 15693 and FeliCa 8). */
export const MAX_CARD_UID_BYTES = 32;
/** A uid in canonical form: its bytes as lowercase hex. */
const CANONICAL_UID = new RegExp(`^(?:[0-9a-f]{2}){1,${MAX_CARD_UID_BYTES}}$`);

export type CardUidForm = 'hex' | 'decimal' | 'facility';
/** A uid in canonical form, as normaliseCardUid returns it (the type keeps raw text out of cardRef). */
export type CardUid = string & { readonly __cardUid: true };

function badUid(detail: string): never {
  throw new ProtocolError('BAD_CARD_UID', detail);
}

/**
 * The canonical uid (lowercase hex of its bytes) of `text` read as `form` (see above). Throws
 * BAD_CARD_UID for text that is not a uid of that form.
 */
export function normaliseCardUid(text: string, form: CardUidForm): CardUid {
  const t = typeof text === 'string' ? text.trim() : '';
  if (t.length === 0 || t.length > 4 * MAX_CARD_UID_BYTES) badUid(`"${String(text).slice(0, 20)}" is not a card uid`);
  let out: string;
  if (form === 'hex') {
    const digits = t.replace(/^0x/i, '');
    if (!/^[0-9A-Fa-f]{2}(?:[:\- ]?[0-9A-Fa-f]{2})*$/.test(digits)) badUid('a hex uid is whole bytes of hex digits, optionally separated by : - or a space');
    out = digits.replace(/[:\- ]/g, '').toLowerCase();
  } else if (form === 'decimal') {
    if (!/^[0-9]+$/.test(t)) badUid('a decimal uid is digits only (the number printed on the fob)');
    out = BigInt(t).toString(16);
    out = out.padStart(Math.max(8, out.length + (out.length % 2)), '0');
  } else if (form === 'facility') {
    const m = /^([0-9]{1,3})[,:]([0-9]{1,5})$/.exec(t);
    if (!m || Number(m[1]) > 255 || Number(m[2]) > 65535) badUid('a facility uid is facility (0-255), a comma, number (0-65535), as printed: 123,45678');
    out = Number(m[1]).toString(16).padStart(2, '0') + Number(m[2]).toString(16).padStart(4, '0');
  } else {
    badUid(`unknown uid form ${String(form)}; use hex, decimal or facility`);
  }
  if (!CANONICAL_UID.test(out)) badUid(`a card uid is at most ${MAX_CARD_UID_BYTES} bytes`);
  return out as CardUid;
}

/** A new random site card key (hex). */
export function generateSiteCardKey(crypto: CryptoProvider = defaultCrypto): SiteCardKey {
  return toHex(crypto.randomBytes(SITE_CARD_KEY_BYTES));
}

/**
 * The reference of card `uid` at the site whose card key is `siteCardKey` (hex or bytes).
 * `uid` is canonical (normaliseCardUid): lowercase hex of the uid bytes. Throws BAD_KEY for a
 * key that is not 32 bytes and BAD_CARD_UID for any other spelling of a uid.
 */
export function cardRef(siteCardKey: string | Uint8Array, uid: CardUid): string {
  let key: Uint8Array;
  try {
    key = typeof siteCardKey === 'string' ? fromHex(siteCardKey) : siteCardKey;
  } catch {
    throw new ProtocolError('BAD_KEY', 'the site card key is not lowercase hex; use the cardKey from the site setup (keymesh init)');
  }
  if (key.length !== SITE_CARD_KEY_BYTES) {
    throw new ProtocolError('BAD_KEY', `the site card key is ${key.length} bytes; it is ${SITE_CARD_KEY_BYTES} (the cardKey from the site setup)`);
  }
  if (typeof uid !== 'string' || !CANONICAL_UID.test(uid)) {
    badUid('cardRef takes the uid as lowercase hex of its bytes; pass what a reader reports or a person types through normaliseCardUid(text, form) first');
  }
  return toHex(hmac(sha256, key, utf8(uid)).subarray(0, CARD_REF_BYTES));
}
