/**
 * Inputs every verifier refuses before the curve math, so Node (OpenSSL, libsodium) and the
 * browser (tweetnacl) give one verdict on the same bytes (DESIGN §4):
 * - public keys of small order (the 8-torsion points, in every encoding): with such a key a
 *   signature can verify for any message, so anyone could write that "author's" feed;
 * - signatures whose scalar S is not below the group order L (tweetnacl accepts S + L, which
 *   OpenSSL refuses: the same entry would verify in the browser only).
 */
const SMALL_ORDER = new Set([
  '0100000000000000000000000000000000000000000000000000000000000000', // identity
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // order 2
  '0000000000000000000000000000000000000000000000000000000000000000', // order 4
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p (≡ 0), non-canonical
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p + 1 (≡ 1), non-canonical
]);

/** L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const L = [
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += (x < 16 ? '0' : '') + x.toString(16);
  return s;
}

/** Is this 32-byte key one of the small-order points (either sign of x)? */
export function isSmallOrderKey(publicKey: Uint8Array): boolean {
  const clear = Uint8Array.from(publicKey);
  clear[31]! &= 0x7f;
  return SMALL_ORDER.has(hex(clear));
}

/** Is the signature's S (its last 32 bytes, little-endian) at least L? */
export function isNonCanonicalS(signature: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const s = signature[32 + i]!;
    if (s !== L[i]) return s > L[i]!;
  }
  return true; // S === L
}

/** Length, key and scalar checks shared by every provider's verify. */
export function refusedBeforeVerify(publicKey: Uint8Array, signature: Uint8Array): boolean {
  return publicKey.length !== 32 || signature.length !== 64 || isSmallOrderKey(publicKey) || isNonCanonicalS(signature);
}
