import { describe, it, expect } from '@jest/globals';
import { nextEntry } from './next-entry.js';
import { keyPairFromSeed } from './keys.js';
import { createSite } from './site.js';
import { entryHash, verifyEntry } from './entry.js';
import { cardRef, normaliseCardUid } from './card-ref.js';
import type { KeyPair } from './keys.js';

const T = 1_700_000_000_000;

describe('nextEntry', () => {
  const made = createSite({ name: 'S', now: T });
  const ref = cardRef(made.cardKey, normaliseCardUid('04a1b2c3d4e5f6', 'hex'));

  it('chains after the head: seq, prev, site, a stamp that never goes back', () => {
    const a = nextEntry(made.genesis.entry, 'card.bind', { card: ref, member: 'ada' }, made.daily, { now: T - 5000 });
    expect(a.entry).toMatchObject({ seq: 2, prev: made.genesis.hash, site: made.site, hlc: { wall: T, logical: 1 } });
    expect(verifyEntry(a.entry)).toMatchObject({ ok: true, known: true, hash: a.hash });
    const b = nextEntry(a.entry, 'card.unbind', { card: ref, reason: 'lost' }, made.daily, { now: T + 10, deps: [a.hash, a.hash] });
    expect(b.entry).toMatchObject({ seq: 3, prev: entryHash(a.entry), hlc: { wall: T + 10, logical: 0 }, deps: [a.hash] });
    const first = nextEntry(null, 'member.put', { member: 'x', name: 'X', contact: '', status: 'active', validUntil: null, keys: [], trainerFor: [] }, made.recovery, { site: made.site, now: T });
    expect(first.entry).toMatchObject({ seq: 1, prev: null, site: made.site });
  });

  it('refuses a bad body before signing anything', () => {
    let signed = 0;
    const spy: KeyPair = { ...made.daily, signer: { publicKey: made.daily.signer.publicKey, sign: (m) => (signed++, made.daily.signer.sign(m)) } };
    expect(() => nextEntry(made.genesis.entry, 'card.bind', { card: '04a1b2c3d4e5f6', member: 'ada' }, spy)).toThrow(expect.objectContaining({ code: 'SCHEMA' }));
    expect(() => nextEntry(made.genesis.entry, 'card.bind', { card: ref, member: 'ada', extra: 1 } as never, spy)).toThrow(expect.objectContaining({ code: 'SCHEMA' }));
    expect(() => nextEntry(made.genesis.entry, 'no.such' as never, {} as never, spy)).toThrow(expect.objectContaining({ code: 'SCHEMA' }));
    expect(() => nextEntry(made.genesis.entry, 'card.bind', { card: ref, member: 'ada' }, spy, { deps: ['nothex'] })).toThrow(expect.objectContaining({ code: 'SCHEMA' }));
    expect(() => nextEntry(made.genesis.entry, 'resource.put', { resource: 'r', name: 'R', kind: 'door', requiredCerts: [], schedule: null, unlockSeconds: 5, idleTimeoutSeconds: null, maxStaleHours: null, risk: 'normal' }, spy, { deps: Array.from({ length: 65 }, (_, i) => i.toString(16).padStart(64, '0')) })).toThrow(expect.objectContaining({ code: 'SCHEMA' }));
    // Every field within its schema, the whole over an entry's byte limit.
    const keys = Array.from({ length: 16 }, (_, i) => keyPairFromSeed(new Uint8Array(32).fill(i + 20)).publicKey);
    const until = Object.fromEntries(keys.map((k) => [k, 2 ** 40]));
    const huge = { member: 'm', name: 'n', contact: '', status: 'active' as const, validUntil: null, keys: keys.map((key) => ({ key, until: null })), trainerFor: Array.from({ length: 256 }, (_, i) => ({ cert: `c${i}`, until })) };
    expect(() => nextEntry(made.genesis.entry, 'member.put', huge, spy)).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
    expect(() => nextEntry(made.genesis.entry, 'card.bind', { card: ref, member: 'ada' }, spy, { site: 'b'.repeat(64) })).toThrow(expect.objectContaining({ code: 'NOT_NEXT_ENTRY' }));
    expect(signed).toBe(0);
    nextEntry(made.genesis.entry, 'card.bind', { card: ref, member: 'ada' }, spy);
    expect(signed).toBe(1);
  });

  it('refuses another key\'s head, or a first entry without a site', () => {
    const other = keyPairFromSeed(new Uint8Array(32).fill(9));
    expect(() => nextEntry(made.genesis.entry, 'card.bind', { card: ref, member: 'ada' }, other)).toThrow(expect.objectContaining({ code: 'NOT_NEXT_ENTRY' }));
    expect(() => nextEntry(null, 'card.bind', { card: ref, member: 'ada' }, other)).toThrow(expect.objectContaining({ code: 'NOT_NEXT_ENTRY' }));
  });

  it('refuses a head that does not verify: a relay cannot make the key sign after an entry it never wrote', () => {
    const a = nextEntry(made.genesis.entry, 'card.bind', { card: ref, member: 'ada' }, made.daily, { now: T });
    let signed = 0;
    const spy: KeyPair = { ...made.daily, signer: { publicKey: made.daily.signer.publicKey, sign: (m) => (signed++, made.daily.signer.sign(m)) } };
    const forged = [
      { ...a.entry, seq: 1_000_000 }, // a head far ahead, to make the feed wait for entries that never come
      { ...a.entry, sig: '0'.repeat(128) },
      { ...a.entry, body: { card: ref, member: 'eve' } },
      { ...a.entry, v: 2 },
    ];
    for (const head of forged) expect(() => nextEntry(head as never, 'card.unbind', { card: ref, reason: 'lost' }, spy)).toThrow(expect.objectContaining({ code: 'NOT_NEXT_ENTRY' }));
    expect(signed).toBe(0);
    expect(nextEntry(a.entry, 'card.unbind', { card: ref, reason: 'lost' }, spy).entry.seq).toBe(3);
  });

  it('makes a site\'s genesis (no site id: its hash is the site)', () => {
    const g = nextEntry(null, 'site.genesis', { name: 'S', admins: [made.daily.publicKey], quorum: 1 }, made.daily, { now: T });
    expect(g.entry).toMatchObject({ site: '', seq: 1, prev: null });
    expect(verifyEntry(g.entry)).toMatchObject({ ok: true, known: true });
    expect(nextEntry(g.entry, 'card.bind', { card: ref, member: 'ada' }, made.daily).entry.site).toBe(g.hash);
    expect(() => nextEntry(null, 'site.genesis', { name: 'S', admins: [made.daily.publicKey], quorum: 1 }, made.daily, { site: made.site })).toThrow(expect.objectContaining({ code: 'NOT_NEXT_ENTRY' }));
  });
});
