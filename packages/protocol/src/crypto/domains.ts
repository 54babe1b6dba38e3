/**
 * Signing domains (DESIGN §4): every kind of signed thing has its own prefix, so a signature
 * made for one kind never verifies as another (an entry as a command, a login token as an
 * entry). Each domain is its UTF-8 name followed by a zero byte; the signed message is that
 * prefix followed by the SHA-256 of the canonical encoding of what is signed (its `sig` field
 * left out), the same shape as an entry's signature.
 *
 * The admin-approval name keeps the bytes approvals were first signed with
 * (`keymesh/v1\0admins.change\0`). It starts with the entry prefix, but an entry's message is
 * exactly that prefix and a 32-byte hash, so the two never share a message length.
 */
import { canonicalBytes } from '../canonical.js';
import { concatBytes, fromHex, toHex, utf8 } from '../bytes.js';
import { defaultCrypto, type CryptoProvider } from './index.js';
import type { Signer } from './provider.js';

export const SIGNING_DOMAINS = {
  /** Ledger entries. */
  entry: 'keymesh/v1',
  /** MQTT login tokens (the broker's password check). */
  mqtt: 'keymesh/v1/mqtt',
  /** Commands to one node (remote unlock). */
  cmd: 'keymesh/v1/cmd',
  /** Detached approvals of an `admins.change` by the other admins. */
  adminApproval: 'keymesh/v1\u0000admins.change',
  /** Signed sync and status messages. */
  sync: 'keymesh/v1/sync',
} as const;

export type SigningDomainName = keyof typeof SIGNING_DOMAINS;
export type SigningDomain = (typeof SIGNING_DOMAINS)[SigningDomainName];

const prefixes = new Map<string, Uint8Array>();

/** The bytes a domain's messages start with: its name in UTF-8 and a zero byte. */
export function domainPrefix(domain: SigningDomain): Uint8Array {
  let p = prefixes.get(domain);
  if (!p) {
    p = utf8(`${domain}\u0000`);
    prefixes.set(domain, p);
  }
  return p;
}

/** The message signed for a 32-byte digest under `domain`. */
export function domainMessage(domain: SigningDomain, digest: Uint8Array): Uint8Array {
  return concatBytes(domainPrefix(domain), digest);
}

/** `obj` without its `sig` field (the signature never covers itself). */
function withoutSig(obj: object): object {
  if (!('sig' in obj)) return obj;
  const { sig: _sig, ...rest } = obj as Record<string, unknown>;
  return rest;
}

/** The message `signDomain` signs for `obj`: prefix ‖ SHA-256(canonical(obj − sig)). Throws NON_CANONICAL for what has no canonical form. */
export function domainSigningMessage(domain: SigningDomain, obj: object, crypto: CryptoProvider = defaultCrypto): Uint8Array {
  return domainMessage(domain, crypto.sha256(canonicalBytes(withoutSig(obj))));
}

/** Signs `obj` (less any `sig` field) under `domain`; returns the signature as lowercase hex. */
export function signDomain(domain: SigningDomain, obj: object, key: { readonly signer: Signer }, crypto: CryptoProvider = defaultCrypto): string {
  return toHex(key.signer.sign(domainSigningMessage(domain, obj, crypto)));
}

/**
 * Does `sigHex` sign `obj` (less any `sig` field) under `domain` by `publicKeyHex`? False, never
 * a throw, for malformed hex or a value with no canonical encoding: callers get hostile input.
 */
export function verifyDomain(domain: SigningDomain, obj: object, sigHex: string, publicKeyHex: string, crypto: CryptoProvider = defaultCrypto): boolean {
  let msg: Uint8Array;
  let sig: Uint8Array;
  let pub: Uint8Array;
  try {
    msg = domainSigningMessage(domain, obj, crypto);
    sig = fromHex(sigHex);
    pub = fromHex(publicKeyHex);
  } catch {
    return false;
  }
  return crypto.verify(pub, msg, sig);
}
