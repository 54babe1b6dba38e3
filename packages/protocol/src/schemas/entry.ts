/** The ledger entry envelope (DESIGN §4): { v, site, author, seq, prev, hlc, type, deps, body, sig }. */
import { z } from 'zod';
import { Hlc } from '../hlc.js';
import { BODY_SCHEMAS, ENTRY_TYPES, type BodyOf, type EntryType } from './bodies.js';
import { HashHex, PublicKeyHex, Seq, SignatureHex } from './common.js';

export const PROTOCOL_VERSION = 1;
/** Largest canonical encoding of one entry; bigger input is refused before parsing it. */
export const MAX_ENTRY_BYTES = 64 * 1024;

/** Type names: dotted lowercase words. A newer release may add types this one does not know. */
export const EntryTypeName = z.string().max(64).regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/, 'must be a dotted lowercase type name such as member.put');

const envelopeFields = {
  v: z.literal(PROTOCOL_VERSION),
  /** The site id (hash of its genesis entry); '' in the genesis entry itself. */
  site: z.union([HashHex, z.literal('')]),
  author: PublicKeyHex,
  seq: Seq,
  prev: HashHex.nullable(),
  hlc: Hlc,
  /** Heads of the policy key(s) this entry changes, sorted, no repeats. */
  deps: z.array(HashHex).max(64),
  body: z.unknown(),
  sig: SignatureHex,
};

/** Rules of the envelope that hold whatever the type. */
function envelopeRules(e: { seq: number; prev: string | null; site: string; type: string; deps: string[] }, ctx: z.RefinementCtx): void {
  if ((e.seq === 1) !== (e.prev === null)) {
    ctx.addIssue({ code: 'custom', path: ['prev'], message: e.seq === 1 ? 'seq 1 has no prev (must be null)' : 'prev is required after seq 1' });
  }
  if ((e.type === 'site.genesis') !== (e.site === '')) {
    ctx.addIssue({ code: 'custom', path: ['site'], message: e.type === 'site.genesis' ? 'genesis entry has site ""' : 'site must be the 64-hex site id' });
  }
  if (e.type === 'site.genesis' && e.seq !== 1) ctx.addIssue({ code: 'custom', path: ['seq'], message: 'genesis must be seq 1 of its author' });
  for (let i = 1; i < e.deps.length; i++) {
    if (e.deps[i - 1]! >= e.deps[i]!) {
      ctx.addIssue({ code: 'custom', path: ['deps'], message: 'deps must be sorted ascending with no repeats' });
      break;
    }
  }
}

/**
 * The envelope alone: any well-formed type name and any body. An entry of a type or body this
 * release does not understand (written by a newer one) is still verified, stored and chained
 * (DESIGN §4 "Newer versions"); it just changes nothing.
 */
export const EntryEnvelope = z.strictObject({ ...envelopeFields, type: EntryTypeName }).superRefine(envelopeRules);
export type EntryEnvelope = z.infer<typeof EntryEnvelope>;

/** An entry this release understands: a known type and a body matching its schema. */
export const Entry = z.strictObject({ ...envelopeFields, type: z.enum(ENTRY_TYPES as [EntryType, ...EntryType[]]) }).superRefine((e, ctx) => {
  envelopeRules(e, ctx);
  const body = BODY_SCHEMAS[e.type].safeParse(e.body);
  if (!body.success) {
    for (const issue of body.error.issues) ctx.addIssue({ ...issue, path: ['body', ...issue.path] } as never);
  }
});

/** Does this release understand `e` (type known, body valid for it)? */
export function isKnownEntry(e: { type: string; body: unknown }): boolean {
  const schema = (BODY_SCHEMAS as Record<string, z.ZodType>)[e.type];
  return schema !== undefined && schema.safeParse(e.body).success;
}

export type UnsignedEntry<T extends EntryType = EntryType> = {
  v: typeof PROTOCOL_VERSION;
  site: string;
  author: string;
  seq: number;
  prev: string | null;
  hlc: Hlc;
  type: T;
  deps: string[];
  body: BodyOf<T>;
};

export type Entry<T extends EntryType = EntryType> = UnsignedEntry<T> & { sig: string };

/** A distributive form: narrowing on `type` narrows `body`. */
export type AnyEntry = { [T in EntryType]: Entry<T> }[EntryType];
