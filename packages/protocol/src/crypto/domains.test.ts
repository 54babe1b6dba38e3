import { describe, it, expect } from '@jest/globals';
import { SIGNING_DOMAINS, domainPrefix, domainSigningMessage, signDomain, verifyDomain, type SigningDomain } from './domains.js';
import { pureCrypto } from './pure.js';
import { defaultCrypto } from './index.js';
import { keyPairFromSeed } from '../keys.js';
import { signEntry, signingMessage, unsignedPart } from '../entry.js';
import { approvalMessage } from '../policy/admins.js';
import { concatBytes, toHex, utf8 } from '../bytes.js';

const key = keyPairFromSeed(new Uint8Array(32).fill(7));
const other = keyPairFromSeed(new Uint8Array(32).fill(8));
const ALL = Object.values(SIGNING_DOMAINS) as SigningDomain[];

describe('signing domains', () => {
  it('are distinct, and each prefix is its name and a zero byte', () => {
    expect(new Set(ALL).size).toBe(ALL.length);
    expect(toHex(domainPrefix(SIGNING_DOMAINS.cmd))).toBe(toHex(utf8('keymesh/v1/cmd\u0000')));
    expect(toHex(domainPrefix(SIGNING_DOMAINS.mqtt))).toBe(toHex(utf8('keymesh/v1/mqtt\u0000')));
    expect(toHex(domainPrefix(SIGNING_DOMAINS.sync))).toBe(toHex(utf8('keymesh/v1/sync\u0000')));
  });

  it('entries and admin approvals sign the bytes they always signed', () => {
    const h = new Uint8Array(32).fill(1);
    expect(toHex(signingMessage(h))).toBe(toHex(concatBytes(utf8('keymesh/v1\u0000'), h)));
    const p = { site: 'a'.repeat(64), deps: [], admins: [{ key: key.publicKey, until: null }], quorum: 1 };
    const digest = defaultCrypto.sha256(utf8(JSON.stringify({ admins: p.admins.map((a) => ({ key: a.key, until: a.until })), deps: [], quorum: 1, site: p.site })));
    expect(toHex(approvalMessage(p))).toBe(toHex(concatBytes(utf8('keymesh/v1\u0000admins.change\u0000'), digest)));
  });

  it('an entry signature is signDomain under the entry domain', () => {
    const { entry } = signEntry(key, { site: 'a'.repeat(64), seq: 1, prev: null, hlc: { wall: 1, logical: 0 }, type: 'node.retire', deps: [], body: { node: other.publicKey, lastSeq: 0, reason: '' } });
    expect(verifyDomain(SIGNING_DOMAINS.entry, unsignedPart(entry), entry.sig, key.publicKey)).toBe(true);
    for (const d of ALL.filter((x) => x !== SIGNING_DOMAINS.entry)) expect(verifyDomain(d, unsignedPart(entry), entry.sig, key.publicKey)).toBe(false);
  });

  it('a signature verifies under its own domain only, by its own key, for its own object', () => {
    const obj = { a: 1, b: 'x' };
    for (const d of ALL) {
      const sig = signDomain(d, obj, key);
      expect(verifyDomain(d, obj, sig, key.publicKey)).toBe(true);
      expect(verifyDomain(d, { ...obj, sig }, sig, key.publicKey)).toBe(true); // sig never covers itself
      expect(verifyDomain(d, { ...obj, a: 2 }, sig, key.publicKey)).toBe(false);
      expect(verifyDomain(d, obj, sig, other.publicKey)).toBe(false);
      for (const e of ALL.filter((x) => x !== d)) expect(verifyDomain(e, obj, sig, key.publicKey)).toBe(false);
    }
  });

  it('hostile input is false, not a throw', () => {
    const sig = signDomain(SIGNING_DOMAINS.cmd, { a: 1 }, key);
    expect(verifyDomain(SIGNING_DOMAINS.cmd, { a: 1 }, 'zz', key.publicKey)).toBe(false);
    expect(verifyDomain(SIGNING_DOMAINS.cmd, { a: 1 }, sig, 'not hex')).toBe(false);
    expect(verifyDomain(SIGNING_DOMAINS.cmd, { a: 1.5 }, sig, key.publicKey)).toBe(false);
    expect(verifyDomain(SIGNING_DOMAINS.cmd, { a: 1 }, sig.toUpperCase(), key.publicKey)).toBe(false);
  });

  it('node:crypto and the browser provider agree both ways', () => {
    const pureKey = keyPairFromSeed(new Uint8Array(32).fill(7), pureCrypto);
    const obj = { id: 'x', n: 3 };
    const a = signDomain(SIGNING_DOMAINS.sync, obj, key);
    const b = signDomain(SIGNING_DOMAINS.sync, obj, pureKey, pureCrypto);
    expect(a).toBe(b); // ed25519 is deterministic
    expect(verifyDomain(SIGNING_DOMAINS.sync, obj, a, key.publicKey, pureCrypto)).toBe(true);
    expect(toHex(domainSigningMessage(SIGNING_DOMAINS.sync, obj, pureCrypto))).toBe(toHex(domainSigningMessage(SIGNING_DOMAINS.sync, obj)));
  });
});
