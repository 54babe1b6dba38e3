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
/** Card UID as the reader driver normalises it (e.g. hex of the UID bytes, or facility:number for Wiegand). */
export const CardUid = Id;
export const ResourceId = Id;
export const CertId = Id;

export const Text = (max = 200) => z.string().max(max);
export const Millis = z.number().int().nonnegative().max(2 ** 47);
export const Seq = z.number().int().positive().max(2 ** 40);
/** Last trusted seq of a feed (null: no limit). Lets an admin withdraw trust without voiding what was signed before. */
export const UntilSeq = z.number().int().nonnegative().max(2 ** 40).nullable(); // 0: none of its entries
