/** Pure-JS crypto for the browser: tweetnacl (ed25519) and @noble/hashes (SHA-256). */
import nacl from 'tweetnacl';
import { sha256 } from '@noble/hashes/sha2.js';
import { type CryptoProvider, type Signer, webRandomBytes } from './provider.js';
import { refusedBeforeVerify } from './strict.js';

export const pureCrypto: CryptoProvider = {
  name: 'tweetnacl+noble',
  sha256: (data) => sha256(data),
  signer(seed: Uint8Array): Signer {
    const kp = nacl.sign.keyPair.fromSeed(seed);
    return {
      publicKey: kp.publicKey,
      sign: (message) => nacl.sign.detached(message, kp.secretKey),
    };
  },
  verify(publicKey, message, signature) {
    if (refusedBeforeVerify(publicKey, signature)) return false;
    return nacl.sign.detached.verify(message, signature, publicKey);
  },
  randomBytes: webRandomBytes,
};

export default pureCrypto;
