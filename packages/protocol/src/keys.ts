/**
 * Keys and the key-file format. A key file holds one ed25519 seed as JSON:
 *   { "keymesh": "key", "v": 1, "alg": "ed25519", "publicKey": <hex>, "seed": <hex>,
 *     "label": <string>, "created": <ms> }
 * Nodes write it with mode 0600 on first start; admins and trainers keep theirs in a file or in
 * the browser. The public key is stored too so a truncated or edited file is caught on load.
 */
import { z } from 'zod';
import { fromHex, toHex, bytesEqual } from './bytes.js';
import { canonicalString } from './canonical.js';
import { defaultCrypto, type CryptoProvider, type Signer } from './crypto/index.js';
import { ProtocolError } from './errors.js';

export const hex = (bytes: number) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `must be ${bytes * 2} lowercase hex characters`);

/** An ed25519 public key, lowercase hex: the identity of every author (node, admin, trainer). */
export const PublicKeyHex = hex(32);
export type PublicKeyHex = z.infer<typeof PublicKeyHex>;

export const KeyFile = z.strictObject({
  keymesh: z.literal('key'),
  v: z.literal(1),
  alg: z.literal('ed25519'),
  publicKey: PublicKeyHex,
  seed: hex(32),
  label: z.string().max(200),
  created: z.number().int().nonnegative(),
});
export type KeyFile = z.infer<typeof KeyFile>;

/** A signing identity: its public key as hex and a signer. */
export interface KeyPair {
  readonly publicKey: PublicKeyHex;
  readonly seed: Uint8Array;
  readonly signer: Signer;
}

export function keyPairFromSeed(seed: Uint8Array, crypto: CryptoProvider = defaultCrypto): KeyPair {
  if (seed.length !== 32) throw new ProtocolError('BAD_KEY', `seed is ${seed.length} bytes; an ed25519 seed is 32 bytes`);
  const signer = crypto.signer(seed);
  return { publicKey: toHex(signer.publicKey), seed: Uint8Array.from(seed), signer };
}

export function generateKeyPair(crypto: CryptoProvider = defaultCrypto): KeyPair {
  return keyPairFromSeed(crypto.randomBytes(32), crypto);
}

export function encodeKeyFile(kp: KeyPair, label: string, created: number): string {
  const file: KeyFile = { keymesh: 'key', v: 1, alg: 'ed25519', publicKey: kp.publicKey, seed: toHex(kp.seed), label, created };
  return canonicalString(file) + '\n';
}

/** Parses and checks a key file's text; the error names what is wrong with it. */
export function decodeKeyFile(text: string, crypto: CryptoProvider = defaultCrypto): { keyPair: KeyPair; file: KeyFile } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ProtocolError('BAD_KEY_FILE', 'it is not JSON; restore it from where it was issued or generate a new key', { problem: 'not-json' });
  }
  const parsed = KeyFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ProtocolError('BAD_KEY_FILE', `field "${issue?.path.join('.') ?? '?'}" ${issue?.message ?? 'is invalid'}`, { problem: 'field', field: issue?.path.join('.') });
  }
  const keyPair = keyPairFromSeed(fromHex(parsed.data.seed), crypto);
  if (!bytesEqual(fromHex(keyPair.publicKey), fromHex(parsed.data.publicKey))) {
    throw new ProtocolError('BAD_KEY_FILE', 'its publicKey does not belong to its seed (the file was edited or damaged)', { problem: 'key-mismatch' });
  }
  return { keyPair, file: parsed.data };
}
