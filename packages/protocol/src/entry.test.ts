import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { decodeEntry, encodeEntry, entryHash, isRestrictive, parseEntryText, signEntry, verifyEntry, unsignedWireText, unsignedPart } from './entry.js';
import { canonicalString } from './canonical.js';
import { pureCrypto } from './crypto/pure.js';
import { nodeCrypto } from './crypto/node.js';
import { ProtocolError } from './errors.js';
import { TestSite, memberBody, testKey } from '@keymesh/testkit/site';
import type { AnyEntry } from './schemas/entry.js';

const site = new TestSite();
const admin = site.admins[0]!;
const entry = admin.write('member.put', memberBody('ada', { contact: 'ada@example.org', validUntil: 1_800_000_000_000 }));
const wire = encodeEntry(entry);

/** Decode then verify, as a replica does with bytes from the network. */
function accepts(text: string): boolean {
  let e: AnyEntry;
  try {
    e = decodeEntry(text);
  } catch {
    return false;
  }
  return verifyEntry(e).ok;
}

describe('entries', () => {
  it('sign in Node, verify in the browser provider, and the other way round', () => {
    expect(verifyEntry(entry, pureCrypto)).toEqual({ ok: true, hash: entryHash(entry), known: true });
    const browserKey = testKey(42, pureCrypto);
    const { entry: e2, hash } = signEntry(browserKey, { site: site.site, seq: 1, prev: null, hlc: { wall: 1, logical: 0 }, type: 'member.put', deps: [], body: memberBody('bob') }, pureCrypto);
    expect(verifyEntry(e2, nodeCrypto)).toEqual({ ok: true, hash, known: true });
    expect(signEntry(testKey(42, nodeCrypto), { site: site.site, seq: 1, prev: null, hlc: { wall: 1, logical: 0 }, type: 'member.put', deps: [], body: memberBody('bob') }, nodeCrypto).entry.sig).toBe(e2.sig);
  });

  it('signEntry returns the canonical wire text, and unsignedWireText recovers what was hashed', () => {
    const { entry: e, hash, wire: w } = signEntry(admin.key, { site: site.site, seq: 9, prev: 'c'.repeat(64), hlc: { wall: 5, logical: 1 }, type: 'admins.change', deps: [],
      body: { admins: [{ key: admin.id, until: null }], quorum: 1, approvals: [{ key: admin.id, sig: 'd'.repeat(128) }] } });
    expect(w).toBe(encodeEntry(e));
    expect(unsignedWireText(w)).toBe(canonicalString(unsignedPart(e)));
    expect(entryHash(e)).toBe(hash);
  });

  it('decodes its own canonical encoding', () => {
    expect(decodeEntry(wire)).toEqual(entry);
    expect(accepts(wire)).toBe(true);
  });

  it('changing any byte of a signed entry makes it fail verification', () => {
    fc.assert(
      fc.property(fc.nat(wire.length - 1), fc.integer({ min: 1, max: 255 }), (pos, delta) => {
        const bytes = new TextEncoder().encode(wire);
        bytes[pos] = (bytes[pos]! + delta) & 0xff;
        const text = new TextDecoder().decode(bytes); // invalid UTF-8 becomes U+FFFD: still a change
        expect(text).not.toBe(wire);
        expect(accepts(text)).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses bytes that are not canonical even when the content is', () => {
    const spaced = JSON.stringify(JSON.parse(wire), null, 1);
    expect(() => decodeEntry(spaced)).toThrow(ProtocolError);
    expect(() => decodeEntry(spaced)).toThrow(expect.objectContaining({ code: 'NOT_CANONICAL_BYTES' }));
    const reordered = JSON.stringify({ sig: entry.sig, ...JSON.parse(wire) });
    expect(() => decodeEntry(reordered)).toThrow(expect.objectContaining({ code: 'NOT_CANONICAL_BYTES' }));
  });

  it('names the field that is wrong', () => {
    // A body this release does not understand verifies (it is held inert), and says why.
    const bad = signEntry(admin.key, { site: site.site, seq: 9, prev: entryHash(entry), hlc: entry.hlc, type: 'member.put', deps: [], body: { ...entry.body, status: 'gone' } as never }).entry;
    expect(verifyEntry(bad)).toMatchObject({ ok: true, known: false, unknown: expect.stringContaining('body.status') });
    const future = signEntry(admin.key, { site: site.site, seq: 9, prev: entryHash(entry), hlc: entry.hlc, type: 'door.future_thing' as never, deps: [], body: { any: 'shape' } as never }).entry;
    expect(verifyEntry(future)).toMatchObject({ ok: true, known: false, unknown: expect.stringContaining('not known to this release') });
    expect(verifyEntry({ ...future, type: 'Not A Type' })).toMatchObject({ ok: false, code: 'SCHEMA', reason: expect.stringContaining('type') });
    expect(verifyEntry({ ...entry, prev: null })).toMatchObject({ ok: false, code: 'SCHEMA', reason: expect.stringContaining('prev') });
    expect(verifyEntry({ ...entry, extra: 1 })).toMatchObject({ ok: false, code: 'SCHEMA' });
    expect(verifyEntry({ ...entry, deps: ['f'.repeat(64), 'a'.repeat(64)] })).toMatchObject({ ok: false, reason: expect.stringContaining('sorted') });
  });

  it('refuses oversized input before parsing it', () => {
    expect(() => decodeEntry('x'.repeat(70_000))).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
  });

  it('a signature from another key does not verify', () => {
    const other = signEntry(testKey(9), { site: site.site, seq: entry.seq, prev: entry.prev, hlc: entry.hlc, type: entry.type, deps: entry.deps, body: entry.body });
    expect(verifyEntry({ ...entry, sig: other.entry.sig })).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
  });

  describe('one canonical check for received bytes (issue 10, findings 2 and 3)', () => {
    const code = (text: string) => {
      try {
        parseEntryText(text);
        return 'ok';
      } catch (err) {
        return (err as ProtocolError).code;
      }
    };

    it('accepts the canonical text, and says whether this release understands it', () => {
      expect(parseEntryText(wire)).toMatchObject({ text: wire, known: true });
    });

    it('refuses a genuine entry whose sig key a relay moved', () => {
      const moved = `{"sig":"${entry.sig}",` + wire.slice(1).replace(`,"sig":"${entry.sig}"`, '');
      expect(JSON.parse(moved)).toEqual(JSON.parse(wire)); // same value, other bytes
      expect(code(moved)).toBe('NOT_CANONICAL_BYTES');
    });

    it('refuses text with a repeated key, which parsers may read two ways', () => {
      const dup = wire.replace('"status":"active"', '"status":"active","status":"suspended"');
      expect(dup).not.toBe(wire);
      expect(code(dup)).toBe('NOT_CANONICAL_BYTES');
    });

    it('refuses -0, escapes of plain characters, exponents and lone surrogates', () => {
      expect(code(wire.replace('"logical":0', '"logical":-0'))).toBe('NON_CANONICAL');
      expect(code(wire.replace('"name":"ada"', '"name":"\\u0061da"'))).toBe('NOT_CANONICAL_BYTES');
      expect(code(wire.replace('"logical":0', '"logical":0e0'))).toBe('NOT_CANONICAL_BYTES');
      expect(code(wire.replace('"contact":"ada@example.org"', '"contact":"\\ud800"'))).toBe('NON_CANONICAL');
    });

    it('refuses bodies nested deeper than any entry needs, without overflowing the stack', () => {
      const deep = signEntry(admin.key, { site: site.site, seq: 9, prev: entryHash(entry), hlc: entry.hlc, type: 'door.future_thing' as never, deps: [], body: { x: 1 } as never }).entry;
      const text = encodeEntry(deep).replace('{"x":1}', '['.repeat(20_000) + ']'.repeat(20_000));
      expect(code(text)).toBe('NON_CANONICAL');
    });

    it('a type from a newer release parses with known: false', () => {
      const future = signEntry(admin.key, { site: site.site, seq: 9, prev: entryHash(entry), hlc: entry.hlc, type: 'door.future_thing' as never, deps: [], body: { any: ['shape'] } as never }).entry;
      expect(parseEntryText(encodeEntry(future))).toMatchObject({ known: false });
    });
  });

  it('restrictive entries: suspension, revoke, unbind, lockout, retirement', () => {
    expect(isRestrictive({ type: 'member.put', body: memberBody('a', { status: 'suspended' }) })).toBe(true);
    expect(isRestrictive({ type: 'member.put', body: memberBody('a') })).toBe(false);
    expect(isRestrictive({ type: 'card.unbind', body: {} })).toBe(true);
    expect(isRestrictive({ type: 'cert.revoke', body: {} })).toBe(true);
    expect(isRestrictive({ type: 'node.retire', body: {} })).toBe(true);
    expect(isRestrictive({ type: 'resource.lockout', body: { state: 'now' } })).toBe(true);
    expect(isRestrictive({ type: 'resource.lockout', body: { state: 'lifted' } })).toBe(false);
    expect(isRestrictive({ type: 'cert.grant', body: {} })).toBe(false);
  });
});
