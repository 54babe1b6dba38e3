// Red-team attacks on entry bytes, signatures and the clock (issue 10: "add your own
// attacks"); the reducer's are in attacks.test.ts. `it.failing` marks a hole found at 695f65d:
// its body asserts the safe behaviour (in the comment above it) and fails today; flip it to
// `it` once fixed. Plain `it` guards an attack that is refused.
import { describe, it, expect } from '@jest/globals';
import { parseEntryText, signEntry, verifyEntry } from '../entry.js';
import { canonicalString } from '../canonical.js';
import { HybridClock, MAX_HLC_LOGICAL, MAX_HLC_WALL } from '../hlc.js';
import { nodeCrypto } from '../crypto/node.js';
import { pureCrypto } from '../crypto/pure.js';
import { memberBody, TestSite } from '@keymesh/testkit/site';
import type { AnyEntry } from '../schemas/entry.js';

const NOW = 1_700_000_000_000;

describe('bytes and signatures', () => {
  const site = new TestSite();
  const signed = signEntry(site.admins[0]!.key, { site: site.site, seq: 2, prev: 'a'.repeat(64), hlc: { wall: NOW, logical: 0 }, type: 'member.put', deps: [], body: memberBody('m1') });
  const refused = (text: string | Uint8Array) => expect(() => parseEntryText(text)).toThrow();

  it('refuses re-encodings of a genuine entry: escapes, \\/, exponents, big numbers, repeated and __proto__ keys, whitespace', () => {
    expect(parseEntryText(signed.wire).known).toBe(true);
    refused(signed.wire.replace('"member":"m1"', '"member":"\\u006d1"'));
    refused(signed.wire.replace('"name":"m1"', '"name":"m\\/1"'));
    refused(signed.wire.replace('"seq":2', '"seq":2e0'));
    refused(signed.wire.replace('"logical":0', '"logical":-0'));
    refused(signed.wire.replace('"wall":1700000000000', '"wall":1700000000000.0'));
    refused(signed.wire.replace('"seq":2', '"seq":9007199254740993'));
    refused(signed.wire.replace('"status":"active"', '"status":"active","status":"suspended"'));
    refused(signed.wire.replace('{"author"', '{"__proto__":{},"author"'));
    refused(signed.wire + '\n');
    refused(' ' + signed.wire);
  });

  it('a __proto__ key inside a known body makes it inert, not a member record', () => {
    const body = Object.assign(JSON.parse('{"__proto__":{"status":"suspended"}}'), memberBody('m1'));
    const e = signEntry(site.admins[0]!.key, { site: site.site, seq: 2, prev: 'a'.repeat(64), hlc: { wall: NOW, logical: 0 }, type: 'member.put', deps: [], body });
    expect(parseEntryText(e.wire).known).toBe(false);
  });

  // Safe: the canonical bytes and nothing else. TextDecoder drops a leading UTF-8 BOM, so
  // today BOM + canonical bytes parse as the entry (two byte strings for one entry).
  it('refuses a UTF-8 byte order mark before the canonical bytes', () => {
    refused(new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(signed.wire)]));
  });

  // Safe: a small-order public key (here the identity point) signs nothing: with it, R = the
  // identity and S = 0 "verify" any message in both providers, so anyone can write (and fork)
  // that author's feed, and a member who registers such a key can deny what "they" signed.
  it('an entry by a small-order key with a forged universal signature does not verify', () => {
    const author = '01' + '00'.repeat(31);
    const forged = { ...signed.entry, author, sig: '01' + '00'.repeat(63) };
    expect(verifyEntry(forged, nodeCrypto).ok).toBe(false);
    expect(verifyEntry(forged, pureCrypto).ok).toBe(false);
  });

  /** The entry with S + L in place of S: same hash, a non-canonical signature. */
  function malleated(): AnyEntry {
    const L = (1n << 252n) + 27742317777372353535851937790883648493n;
    const sig = signed.entry.sig;
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(parseInt(sig.slice(64 + 2 * i, 66 + 2 * i), 16));
    s += L;
    let hex = '';
    for (let i = 0; i < 32; i++, s >>= 8n) hex += Number(s & 0xffn).toString(16).padStart(2, '0');
    return { ...signed.entry, sig: sig.slice(0, 64) + hex } as AnyEntry;
  }

  it('node:crypto refuses a malleated signature (S + L)', () => {
    expect(verifyEntry(signed.entry, nodeCrypto).ok).toBe(true);
    expect(verifyEntry(malleated(), nodeCrypto).ok).toBe(false);
  });

  // Safe (DESIGN §4: the same bytes verify the same in Node and the browser): tweetnacl does
  // not check S < L, so the browser accepts the malleated copy every node refuses.
  it('the browser provider refuses a malleated signature too', () => {
    expect(verifyEntry(malleated(), pureCrypto).ok).toBe(false);
  });
});

describe('clock', () => {
  it('no stamp drags the clock past the drift limit or the schema, however often it comes', () => {
    let wall = NOW;
    const clock = new HybridClock(() => wall, 60_000);
    for (let i = 0; i < 1000; i++) {
      try {
        clock.receive({ wall: wall + 60_000, logical: MAX_HLC_LOGICAL });
      } catch {
        /* refused */
      }
      expect(() => clock.receive({ wall: MAX_HLC_WALL, logical: 0 })).toThrow();
      wall += 1;
    }
    const stamp = clock.now();
    expect(stamp.wall).toBeLessThanOrEqual(wall + 60_000 + 1);
    expect(stamp.logical).toBeLessThanOrEqual(MAX_HLC_LOGICAL);
    expect(canonicalString(stamp)).toBe(`{"logical":${stamp.logical},"wall":${stamp.wall}}`);
  });
});
