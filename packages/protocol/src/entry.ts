/**
 * Hashing, signing, verifying and decoding entries. hash = SHA-256(canonical(entry − sig));
 * sig = ed25519("keymesh/v1\0" ‖ hash). Bytes on the wire must be exactly the canonical form.
 */
import { canonicalString, canonicalBytes } from './canonical.js';
import { fromHex, toHex, utf8, concatBytes, fromUtf8 } from './bytes.js';
import { defaultCrypto, type CryptoProvider } from './crypto/index.js';
import { ProtocolError } from './errors.js';
import type { KeyPair } from './keys.js';
import { Entry, MAX_ENTRY_BYTES, PROTOCOL_VERSION, type AnyEntry, type UnsignedEntry } from './schemas/entry.js';
import type { EntryType } from './schemas/bodies.js';

export const SIGNING_DOMAIN = utf8('keymesh/v1\0');

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
  return concatBytes(SIGNING_DOMAIN, hash);
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

export type Verdict = { ok: true; hash: string } | { ok: false; code: 'SCHEMA' | 'BAD_SIGNATURE' | 'NON_CANONICAL'; reason: string };

/** Schema plus signature of one entry (chain, site and authority are the replica's checks). */
export function verifyEntry(input: unknown, crypto: CryptoProvider = defaultCrypto): Verdict {
  const parsed = Entry.safeParse(input);
  if (!parsed.success) return { ok: false, code: 'SCHEMA', reason: describeZodError(parsed.error) };
  const e = parsed.data as Entry;
  let hash: Uint8Array;
  try {
    hash = entryHashBytes(e, crypto);
  } catch (err) {
    return { ok: false, code: 'NON_CANONICAL', reason: (err as Error).message };
  }
  if (!crypto.verify(fromHex(e.author), signingMessage(hash), fromHex(e.sig))) {
    return { ok: false, code: 'BAD_SIGNATURE', reason: `signature of ${e.type} seq ${e.seq} by ${e.author.slice(0, 12)}… does not verify` };
  }
  return { ok: true, hash: toHex(hash) };
}

/** The wire/file form of an entry: its canonical JSON (sig included). */
export function encodeEntry(e: Entry): string {
  return canonicalString(e);
}

/**
 * Parses an entry from wire bytes or text and checks its shape, and that the bytes are
 * exactly canonical: an entry re-encoded differently by some engine is refused, not repaired.
 * Does not check the signature (see verifyEntry).
 */
export function decodeEntry(input: string | Uint8Array): AnyEntry {
  const { entry, text } = parseEntryText(input);
  if (canonicalString(entry) !== text) {
    throw new ProtocolError('NOT_CANONICAL_BYTES', 'send the canonical encoding (sorted keys, no whitespace, integers only)');
  }
  return entry;
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

/** Size, JSON and schema checks of wire input, without the canonical-bytes check. */
export function parseEntryText(input: string | Uint8Array): { entry: AnyEntry; text: string } {
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
  const parsed = Entry.safeParse(json);
  if (!parsed.success) throw new ProtocolError('SCHEMA', describeZodError(parsed.error));
  return { entry: parsed.data as AnyEntry, text };
}

export function describeZodError(err: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
