import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { nodeCrypto, selectNodeCrypto } from './node.js';
import { loadSodium, sodiumSigner } from './sodium.js';
import { pureCrypto } from './pure.js';
import { defaultCrypto } from './index.js';
import { toHex } from '../bytes.js';

// tweetnacl signs only ~200/s (slower still on a loaded CI box), so these cross-checks run
// fewer random cases than the policy properties.
const RUNS = 30;
/** Platforms for which sodium-native ships a prebuilt addon (it must load there). */
const prebuilt = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64', 'win32-arm64'].includes(`${process.platform}-${process.arch}`);

describe('crypto providers agree byte for byte', () => {
  it('Node picks node:crypto through the package imports condition, signing with libsodium where sodium-native has a prebuilt addon', () => {
    // Where the addon is shipped, it must load: otherwise signing would silently halve in
    // speed. Elsewhere (32-bit ARM) node:crypto signs.
    expect(loadSodium()).toHaveProperty(prebuilt ? 'sodium' : 'error');
    expect(defaultCrypto.name).toBe(prebuilt ? 'node:crypto+libsodium' : 'node:crypto');
  });

  it('KEYMESH_ED25519 chooses the signer; a bad value names the choices', () => {
    if (prebuilt) {
      expect(selectNodeCrypto(undefined).name).toBe('node:crypto+libsodium');
      expect(selectNodeCrypto('libsodium').name).toBe('node:crypto+libsodium');
    } else {
      expect(selectNodeCrypto(undefined)).toBe(nodeCrypto);
      expect(() => selectNodeCrypto('libsodium')).toThrow(expect.objectContaining({ code: 'BAD_CRYPTO_CHOICE' }));
    }
    expect(selectNodeCrypto('node')).toBe(nodeCrypto);
    expect(() => selectNodeCrypto('openssl')).toThrow(expect.objectContaining({ code: 'BAD_CRYPTO_CHOICE', message: expect.stringContaining('KEYMESH_ED25519=openssl is not a choice: set it to auto, libsodium, node') }));
  });

  it('libsodium and OpenSSL give the same public key and signature; each verifies the other', () => {
    const loaded = loadSodium();
    if (!prebuilt) {
      // No addon is shipped for this platform: libsodium is not expected, node:crypto signs.
      expect(loaded).toHaveProperty('error');
      expect(defaultCrypto.name).toBe('node:crypto');
      return;
    }
    // Expected here (sodium-native ships this platform's addon): its absence fails the test
    // rather than letting it compare node:crypto with itself.
    if (!('sodium' in loaded)) throw new Error(`libsodium is expected on ${process.platform}-${process.arch} but sodium-native did not load: ${loaded.error}`);
    const sodium = (seed: Uint8Array) => sodiumSigner(loaded.sodium, seed);
    // size 'max': lengths spread over 0..300, not fast-check's default of mostly short arrays
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300, size: 'max' }), (seed, msg) => {
      const a = sodium(seed);
      const b = nodeCrypto.signer(seed);
      expect(toHex(a.publicKey)).toBe(toHex(b.publicKey));
      const sa = a.sign(msg);
      expect(toHex(sa)).toBe(toHex(b.sign(msg)));
      expect(nodeCrypto.verify(b.publicKey, msg, sa)).toBe(true);
      sa[0] = sa[0]! ^ 1;
      expect(nodeCrypto.verify(b.publicKey, msg, sa)).toBe(false);
    }), { numRuns: 500 });
    expect(() => sodium(new Uint8Array(31))).toThrow(expect.objectContaining({ code: 'BAD_KEY' }));
  });

  it('SHA-256 is identical', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (data) => {
      expect(toHex(nodeCrypto.sha256(data))).toBe(toHex(pureCrypto.sha256(data)));
    }), { numRuns: 1000 });
    expect(toHex(nodeCrypto.sha256(new Uint8Array()))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('same public key and same signature from the same seed; each verifies the other', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), (seed, msg) => {
      const a = defaultCrypto.signer(seed); // libsodium where it loads (checked above), else node:crypto
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
