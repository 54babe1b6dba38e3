import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { nodeCrypto } from './node.js';
import { pureCrypto } from './pure.js';
import { defaultCrypto } from './index.js';
import { toHex } from '../bytes.js';

// tweetnacl signs only ~200/s (slower still on a loaded CI box), so these cross-checks run
// fewer random cases than the policy properties.
const RUNS = 30;

describe('crypto providers agree byte for byte', () => {
  it('Node picks node:crypto through the package imports condition', () => {
    expect(defaultCrypto.name).toBe('node:crypto');
  });

  it('SHA-256 is identical', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (data) => {
      expect(toHex(nodeCrypto.sha256(data))).toBe(toHex(pureCrypto.sha256(data)));
    }), { numRuns: 1000 });
    expect(toHex(nodeCrypto.sha256(new Uint8Array()))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('same public key and same signature from the same seed; each verifies the other', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), (seed, msg) => {
      const a = nodeCrypto.signer(seed);
      const b = pureCrypto.signer(seed);
      expect(toHex(a.publicKey)).toBe(toHex(b.publicKey));
      const sa = a.sign(msg);
      const sb = b.sign(msg);
      expect(toHex(sa)).toBe(toHex(sb)); // ed25519 is deterministic
      expect(pureCrypto.verify(a.publicKey, msg, sa)).toBe(true);
      expect(nodeCrypto.verify(b.publicKey, msg, sb)).toBe(true);
    }), { numRuns: RUNS });
  });

  it('both reject a signature with one bit flipped, and malformed keys', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 100 }), fc.nat(511), (seed, msg, bit) => {
      const s = nodeCrypto.signer(seed);
      const sig = s.sign(msg);
      sig[bit >> 3] = sig[bit >> 3]! ^ (1 << (bit & 7));
      expect(nodeCrypto.verify(s.publicKey, msg, sig)).toBe(false);
      expect(pureCrypto.verify(s.publicKey, msg, sig)).toBe(false);
    }), { numRuns: RUNS });
    expect(nodeCrypto.verify(new Uint8Array(31), new Uint8Array(), new Uint8Array(64))).toBe(false);
    expect(pureCrypto.verify(new Uint8Array(32), new Uint8Array(), new Uint8Array(63))).toBe(false);
  });
});
