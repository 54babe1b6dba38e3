/**
 * node:crypto provider. Keys are wrapped in DER (PKCS#8 / SPKI) once and the KeyObjects
 * cached per key, which is what makes Node's ed25519 fast (DESIGN §4). Signing goes through
 * libsodium where its addon loads (sodium.ts: ~2x faster than OpenSSL here); hashing and
 * verifying stay on node:crypto. `KEYMESH_ED25519` chooses: `auto` (the default), `libsodium`
 * (fail if it cannot load) or `node`.
 */
import * as nodeCryptoModule from 'node:crypto';
import { refusedBeforeVerify } from './strict.js';
import { createHash, createPrivateKey, createPublicKey, sign, verify, randomBytes, type KeyObject } from 'node:crypto';

const oneShotHash = (nodeCryptoModule as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash;
import type { CryptoProvider, Signer } from './provider.js';
import { loadSodium, sodiumSigner } from './sodium.js';
import { ProtocolError } from '../errors.js';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const MAX_CACHED_KEYS = 4096;
const publicKeys = new Map<string, KeyObject>();

function publicKeyObject(pub: Uint8Array): KeyObject {
  const id = Buffer.from(pub.buffer, pub.byteOffset, pub.byteLength).toString('hex');
  let k = publicKeys.get(id);
  if (!k) {
    k = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pub]), format: 'der', type: 'spki' });
    if (publicKeys.size >= MAX_CACHED_KEYS) publicKeys.delete(publicKeys.keys().next().value as string);
    publicKeys.set(id, k);
  }
  return k;
}

function u8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export const nodeCrypto: CryptoProvider = {
  name: 'node:crypto',
  // crypto.hash (Node >= 20.12) skips the Hash object: ~3 µs less per entry than createHash.
  sha256: oneShotHash ? (data) => u8(oneShotHash('sha256', data, 'buffer') as Buffer) : (data) => u8(createHash('sha256').update(data).digest()),
  signer(seed: Uint8Array): Signer {
    if (seed.length !== 32) throw new ProtocolError('BAD_KEY', `seed is ${seed.length} bytes; an ed25519 seed is 32 bytes`);
    const priv = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    const spki = createPublicKey(priv).export({ format: 'der', type: 'spki' });
    const publicKey = u8(spki.subarray(SPKI_PREFIX.length));
    return { publicKey, sign: (message) => u8(sign(null, message, priv)) };
  },
  verify(publicKey, message, signature) {
    if (refusedBeforeVerify(publicKey, signature)) return false;
    try {
      return verify(null, message, publicKeyObject(publicKey), signature);
    } catch {
      return false; // a malformed point is simply an invalid signature
    }
  },
  randomBytes: (n) => u8(randomBytes(n)),
};

export const ED25519_CHOICES = ['auto', 'libsodium', 'node'] as const;

/**
 * The Node provider for a `KEYMESH_ED25519` value (see the top of this file). Throws
 * BAD_CRYPTO_CHOICE, naming the fix, for an unknown value, or for `libsodium` where its addon
 * does not load.
 */
export function selectNodeCrypto(choice: string | undefined): CryptoProvider {
  const want = choice === undefined || choice === '' ? 'auto' : choice;
  if (!(ED25519_CHOICES as readonly string[]).includes(want)) {
    throw new ProtocolError('BAD_CRYPTO_CHOICE', `KEYMESH_ED25519=${want} is not a choice: set it to ${ED25519_CHOICES.join(', ')} (or unset it for auto)`);
  }
  if (want === 'node') return nodeCrypto;
  const s = loadSodium();
  if ('error' in s) {
    if (want === 'libsodium') throw new ProtocolError('BAD_CRYPTO_CHOICE', `KEYMESH_ED25519=libsodium, but sodium-native does not load here (${s.error}); reinstall with npm install, or unset KEYMESH_ED25519 to sign with node:crypto`);
    return nodeCrypto;
  }
  return { ...nodeCrypto, name: 'node:crypto+libsodium', signer: (seed) => sodiumSigner(s.sodium, seed) };
}

export default selectNodeCrypto(process.env['KEYMESH_ED25519']);
