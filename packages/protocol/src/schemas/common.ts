import { z } from 'zod';
import { hex, PublicKeyHex } from '../keys.js';

export { PublicKeyHex };
/** SHA-256 of an entry's canonical encoding, lowercase hex. */
export const HashHex = hex(32);
export type HashHex = z.infer<typeof HashHex>;
export const SignatureHex = hex(64);

/** Ids of members, cards, resources and certifications: they appear inside policy keys and topics, so no '/' or '+' or '#'. */
export const Id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'must be 1-64 characters of letters, digits, . _ : - (starting with a letter or digit)');
export const MemberId = Id;
/**
 * A card reference (DESIGN §3): the first 16 bytes of HMAC-SHA256(site card key, uid), in hex
 * (card-ref.ts). Every card field of an entry, event or message is one: a badge's uid is a
 * cloneable secret and never travels. A raw uid (8, 14 or 20 hex characters, or a printed
 * decimal number) does not match.
 */
export const CardRef = z.string().regex(/^[0-9a-f]{32}$/, 'must be a card reference (32 lowercase hex characters made by cardRef(siteCardKey, uid)), never the card number itself');
export type CardRef = z.infer<typeof CardRef>;
export const ResourceId = Id;
export const CertId = Id;

export const Text = (max = 200) => z.string().max(max);
export const Millis = z.number().int().nonnegative().max(2 ** 47);
export const Seq = z.number().int().positive().max(2 ** 40);
/** Last trusted seq of a feed (null: no limit). Lets an admin withdraw trust without voiding what was signed before. */
export const UntilSeq = z.number().int().nonnegative().max(2 ** 40).nullable(); // 0: none of its entries
