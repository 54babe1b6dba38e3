/**
 * Card references (DESIGN §3). A badge's uid is a cloneable secret, so entries, messages, logs
 * and the dashboard carry `cardRef(siteCardKey, uid)`: the first 16 bytes of
 * HMAC-SHA256(site card key, uid) in hex. The site card key is made with the site, handed to
 * enrolled edges and admin tools, and never published or stored in the ledger. An edge turns
 * a uid into its reference as it reads it; an admin typing the number printed on a fob gets
 * the same reference, provided both normalise the uid the same way (the reader driver's job).
 * Pure JS (@noble/hashes), so the browser makes the same references.
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

/** A uid as a reader driver normalises it (hex of the uid bytes, a printed number, facility:number). */
const UID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** A new random site card key (hex). */
export function generateSiteCardKey(crypto: CryptoProvider = defaultCrypto): SiteCardKey {
  return toHex(crypto.randomBytes(SITE_CARD_KEY_BYTES));
}

/**
 * The reference of card `uid` at the site whose card key is `siteCardKey` (hex or bytes).
 * Throws BAD_KEY for a key that is not 32 bytes and BAD_CARD_UID for an empty or odd uid.
 */
export function cardRef(siteCardKey: string | Uint8Array, uid: string): string {
  let key: Uint8Array;
  try {
    key = typeof siteCardKey === 'string' ? fromHex(siteCardKey) : siteCardKey;
  } catch {
    throw new ProtocolError('BAD_KEY', 'the site card key is not lowercase hex; use the cardKey from the site setup (keymesh init)');
  }
  if (key.length !== SITE_CARD_KEY_BYTES) {
    throw new ProtocolError('BAD_KEY', `the site card key is ${key.length} bytes; it is ${SITE_CARD_KEY_BYTES} (the cardKey from the site setup)`);
  }
  if (!UID.test(uid)) {
    throw new ProtocolError('BAD_CARD_UID', 'a card uid is 1-64 letters, digits, . _ : - as the reader reports it; check the reader driver or what was typed');
  }
  return toHex(hmac(sha256, key, utf8(uid)).subarray(0, CARD_REF_BYTES));
}
