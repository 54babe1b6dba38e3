/**
 * Hashing, signing, verifying and decoding entries. hash = SHA-256(canonical(entry − sig));
 * sig = ed25519("keymesh/v1\0" ‖ hash). Bytes on the wire must be exactly the canonical form.
 */
import { canonicalString, canonicalBytes } from './canonical.js';
import { fromHex, toHex, utf8, fromUtf8 } from './bytes.js';
import { defaultCrypto, type CryptoProvider } from './crypto/index.js';
import { ProtocolError } from './errors.js';
import { SIGNING_DOMAINS, domainMessage, domainPrefix } from './crypto/domains.js';
import type { KeyPair } from './keys.js';
import { Entry, EntryEnvelope, MAX_ENTRY_BYTES, PROTOCOL_VERSION, isKnownEntry, type AnyEntry, type UnsignedEntry } from './schemas/entry.js';
import { BODY_SCHEMAS, type EntryType } from './schemas/bodies.js';

export const SIGNING_DOMAIN = domainPrefix(SIGNING_DOMAINS.entry);

export function unsignedPart(e: Entry | UnsignedEntry): UnsignedEntry {
  const { v, site, author, seq, prev, hlc, type, deps, body } = e;
  return { v, site, author, seq, prev, hlc, type, deps, body };
}

export function entryHashBytes(e: Entry | UnsignedEntry, crypto: CryptoProvider = defaultCrypto): Uint8Array {
  return crypto.sha256(canonicalBytes(unsignedPart(e)));
}

export function entryHash(e: Entry | UnsignedEntry, crypto: CryptoProvider = defaultCrypto): string {
  return toHex(entryHashBytes(e, crypto));
}

export function signingMessage(hash: Uint8Array): Uint8Array {
  return domainMessage(SIGNING_DOMAINS.entry, hash);
}

/** What the caller of signEntry supplies: everything but the version and the author (the key's). */
export type NewEntry<T extends EntryType> = Omit<UnsignedEntry<T>, 'v' | 'author'>;

/**
 * Builds and signs an entry. `deps` are sorted and de-duplicated here. Returns it with its hash
 * and its wire text (the canonical encoding, made from the one that was hashed).
 */
export function signEntry<T extends EntryType>(key: KeyPair, e: NewEntry<T>, crypto: CryptoProvider = defaultCrypto): { entry: Entry<T>; hash: string; hashBytes: Uint8Array; wire: string } {
  const unsigned: UnsignedEntry<T> = {
    v: PROTOCOL_VERSION,
    site: e.site,
    author: key.publicKey,
    seq: e.seq,
    prev: e.prev,
    hlc: e.hlc,
    type: e.type,
    deps: [...new Set(e.deps)].sort(),
    body: e.body,
  };
  const text = canonicalString(unsigned);
  const hash = crypto.sha256(utf8(text));
  const sig = toHex(key.signer.sign(signingMessage(hash)));
  return { entry: { ...unsigned, sig }, hash: toHex(hash), hashBytes: hash, wire: withSig(text, sig) };
}

/** Inserts `sig` into an unsigned canonical text: it sorts right before `site` (see unsignedWireText). */
function withSig(unsignedText: string, sig: string): string {
  const at = unsignedText.lastIndexOf(',"site":"');
  return `${unsignedText.slice(0, at)},"sig":"${sig}"${unsignedText.slice(at)}`;
}

export type Verdict =
  | { ok: true; hash: string; known: true }
  | { ok: true; hash: string; known: false; unknown: string }
  | { ok: false; code: 'SCHEMA' | 'BAD_SIGNATURE' | 'NON_CANONICAL'; reason: string };

/**
 * Envelope, canonical encodability and signature of one entry (chain, site and authority are
 * the replica's checks). `known` is false for an entry this release does not understand (a
 * newer type or body): it verifies, and changes nothing.
 */
export function verifyEntry(input: unknown, crypto: CryptoProvider = defaultCrypto): Verdict {
  const parsed = EntryEnvelope.safeParse(input);
  if (!parsed.success) return { ok: false, code: 'SCHEMA', reason: describeZodError(parsed.error) };
  const e = parsed.data as unknown as Entry;
  let hash: Uint8Array;
  try {
    hash = entryHashBytes(e, crypto);
  } catch (err) {
    return { ok: false, code: 'NON_CANONICAL', reason: (err as Error).message };
  }
  if (!crypto.verify(fromHex(e.author), signingMessage(hash), fromHex(e.sig))) {
    return { ok: false, code: 'BAD_SIGNATURE', reason: `signature of ${e.type} seq ${e.seq} by ${e.author.slice(0, 12)}… does not verify` };
  }
  if (isKnownEntry(e)) return { ok: true, hash: toHex(hash), known: true };
  return { ok: true, hash: toHex(hash), known: false, unknown: whyNotKnown(e) };
}

/** Why this release does not understand an entry: its type, or what is wrong with its body. */
export function whyNotKnown(e: { type: string; body: unknown }): string {
  const schema = (BODY_SCHEMAS as Record<string, { safeParse(v: unknown): { success: boolean; error?: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> } } }>)[e.type];
  if (!schema) return `type ${e.type} is not known to this release (written by a newer one?)`;
  const r = schema.safeParse(e.body);
  return r.success || !r.error ? '' : describeZodError({ issues: r.error.issues.map((i) => ({ ...i, path: ['body', ...i.path] })) });
}

/** The wire/file form of an entry: its canonical JSON (sig included). */
export function encodeEntry(e: Entry): string {
  return canonicalString(e);
}

/**
 * Parses an entry from wire bytes or text and checks its envelope, and that the bytes are
 * exactly canonical: an entry re-encoded differently by some engine is refused, not repaired.
 * Does not check the signature (see verifyEntry). The entry may be one this release does not
 * understand: see parseEntryText's `known`.
 */
export function decodeEntry(input: string | Uint8Array): AnyEntry {
  return parseEntryText(input).entry;
}

/**
 * The bytes an entry's hash covers, cut from its wire text: the text without the top-level
 * `sig` field. For canonical text this equals the canonical encoding of the unsigned entry, so
 * a replica can hash what it received without encoding it again; for any other text the hash
 * differs from the one the author signed, and the signature (or the next entry's `prev` link)
 * fails. `sig` sorts after `seq` and before `site`, `type`, `v`, whose values never contain
 * `"sig":"`, so the last occurrence is the top-level field.
 */
export function unsignedWireText(text: string): string {
  const at = text.lastIndexOf(',"sig":"');
  const end = at + 8 + 128;
  if (at < 0 || text[end] !== '"') throw new ProtocolError('SCHEMA', 'entry has no top-level sig field of 128 hex characters');
  return text.slice(0, at) + text.slice(end + 1);
}

/**
 * The one check of received entry bytes, used on every path (ingest, import, sync, browser):
 * size, UTF-8, JSON, envelope, and canonical bytes (a moved `sig`, a duplicated key, `-0`,
 * whitespace, a lone surrogate: all refused, so no two parsers can read one signed text two
 * ways). `known` is false when the type or body is not one this release understands; such an
 * entry is still verified and stored, inert (DESIGN §4 "Newer versions").
 */
export function parseEntryText(input: string | Uint8Array): { entry: AnyEntry; text: string; known: boolean } {
  const size = typeof input === 'string' ? (input.length * 3 <= MAX_ENTRY_BYTES ? input.length : utf8(input).length) : input.length;
  if (size > MAX_ENTRY_BYTES) throw new ProtocolError('TOO_LARGE', `entry is ${size} bytes; the limit is ${MAX_ENTRY_BYTES}`);
  let text: string;
  try {
    text = typeof input === 'string' ? input : fromUtf8(input);
  } catch {
    throw new ProtocolError('BAD_JSON', 'bytes are not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ProtocolError('BAD_JSON', (err as Error).message);
  }
  const parsed = EntryEnvelope.safeParse(json);
  if (!parsed.success) throw new ProtocolError('SCHEMA', describeZodError(parsed.error));
  // canonicalString throws NON_CANONICAL for what has no canonical form (-0, lone surrogates).
  if (canonicalString(json) !== text) {
    throw new ProtocolError('NOT_CANONICAL_BYTES', 'send the canonical encoding (sorted keys, no whitespace, no repeated keys, integers only)');
  }
  const entry = parsed.data as unknown as AnyEntry;
  return { entry, text, known: isKnownEntry(entry) };
}

/**
 * Restrictive entries take access away: a suspension, a revocation, an unbinding, a lockout, a
 * retirement (a node key's replacement included). A node obeys them whatever their time stamp (DESIGN §10: a Pi whose clock is a
 * month behind must still obey a suspension signed today).
 */
export function isRestrictive(e: { type: string; body: unknown }): boolean {
  const body = e.body as Record<string, unknown> | null;
  switch (e.type) {
    case 'card.unbind':
    case 'cert.revoke':
    case 'node.retire':
      return true;
    case 'member.put':
      return body?.status === 'suspended';
    case 'node.enrol':
      return body?.replaces !== undefined; // retires the key it replaces
    case 'resource.lockout':
      return body?.state === 'now' || body?.state === 'when_idle';
    default:
      return false;
  }
}

export function describeZodError(err: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
