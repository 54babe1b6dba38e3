/**
 * The crypto a Keymesh replica needs, behind one small interface so the same protocol code
 * runs in the browser (tweetnacl + @noble/hashes) and in Node (node:crypto, ~150x faster at
 * signing). Both must produce identical bytes; tests cross-verify them both ways.
 */
export interface Signer {
  /** 32-byte ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** Detached 64-byte ed25519 signature of `message`. */
  sign(message: Uint8Array): Uint8Array;
}

export interface CryptoProvider {
  readonly name: string;
  sha256(data: Uint8Array): Uint8Array;
  /** A signer for a 32-byte ed25519 seed (the secret key as stored in key files). */
  signer(seed: Uint8Array): Signer;
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  randomBytes(n: number): Uint8Array;
}

/** Cryptographically strong random bytes from Web Crypto (present in browsers and Node ≥ 19). */
export function webRandomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) {
    globalThis.crypto.getRandomValues(out.subarray(o, Math.min(n, o + 65536)));
  }
  return out;
}
