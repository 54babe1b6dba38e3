import { describe, it, expect } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { cardRef, generateSiteCardKey, normaliseCardUid, SiteCardKey, type CardUid } from './card-ref.js';
import { CardRef } from './schemas/common.js';
import { createSite } from './site.js';
import { canonicalString } from './canonical.js';

const KEY = '11'.repeat(32);
const code = (f: () => unknown) => {
  try {
    f();
    return 'accepted';
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

describe('card references', () => {
  it('are the first 16 bytes of HMAC-SHA256(site card key, uid), hex (checked against node:crypto)', () => {
    for (const uid of ['04a1b2c3d4e5f6', '00bc614e', '7bb26e'] as CardUid[]) {
      const expected = createHmac('sha256', Buffer.from(KEY, 'hex')).update(uid, 'utf8').digest('hex').slice(0, 32);
      expect(cardRef(KEY, uid)).toBe(expected);
      expect(cardRef(Buffer.from(KEY, 'hex'), uid)).toBe(expected);
    }
    expect(CardRef.safeParse(cardRef(KEY, 'a1' as CardUid)).success).toBe(true);
  });

  it('differ between sites and between cards', () => {
    const other = '22'.repeat(32);
    const a1 = normaliseCardUid('a1', 'hex');
    expect(cardRef(KEY, a1)).not.toBe(cardRef(other, a1));
    expect(cardRef(KEY, a1)).not.toBe(cardRef(KEY, normaliseCardUid('a2', 'hex')));
  });

  it('refuse a bad key or uid with typed codes', () => {
    const a1 = normaliseCardUid('a1', 'hex');
    expect(() => cardRef('11'.repeat(16), a1)).toThrow(expect.objectContaining({ code: 'BAD_KEY' }));
    expect(() => cardRef('XYZ', a1)).toThrow(expect.objectContaining({ code: 'BAD_KEY' }));
    for (const uid of ['', ' a1', 'a/1', 'x'.repeat(65)]) expect(() => cardRef(KEY, uid as CardUid)).toThrow(expect.objectContaining({ code: 'BAD_CARD_UID' }));
  });

  it('one fob gives one reference: the reader\'s hex, the same bytes typed in any case or spacing, and its printed decimal', () => {
    const reader = cardRef(KEY, normaliseCardUid('00bc614e', 'hex'));
    for (const typed of ['00BC614E', '0x00bc614e', '00:bc:61:4e', '00-BC-61-4E', ' 00 bc 61 4e ']) expect(cardRef(KEY, normaliseCardUid(typed, 'hex'))).toBe(reader);
    for (const printed of ['0012345678', '12345678']) expect(cardRef(KEY, normaliseCardUid(printed, 'decimal'))).toBe(reader);
    expect(normaliseCardUid('123,45678', 'facility')).toBe('7bb26e');
    expect(normaliseCardUid('123:45678', 'facility')).toBe('7bb26e');
    expect(normaliseCardUid('0', 'decimal')).toBe('00000000');
    expect(normaliseCardUid('4294967296', 'decimal')).toBe('0100000000');
    expect(normaliseCardUid('04A1B2C3D4E5F6', 'hex')).toBe('04a1b2c3d4e5f6');
  });

  it('refuses any other spelling of a uid, so a typed number never silently makes another reference', () => {
    // Typed or read text that is not canonical is refused by cardRef itself, not hashed as it is.
    for (const raw of ['A1B2C3D4', '00:bc:61:4e', '123:45678', '4a1b2', 'cz', 'x'.repeat(66), 'ab'.repeat(33)]) {
      expect(() => cardRef(KEY, raw as CardUid)).toThrow(expect.objectContaining({ code: 'BAD_CARD_UID' }));
    }
    const bad: Array<[string, 'hex' | 'decimal' | 'facility']> = [
      ['', 'hex'], ['4a1b2', 'hex'], ['0x', 'hex'], ['a1::b2', 'hex'], ['g1', 'hex'], ['ab'.repeat(33), 'hex'],
      ['12a', 'decimal'], ['-5', 'decimal'], ['1'.repeat(80), 'decimal'], ['1.5', 'decimal'],
      ['256,1', 'facility'], ['1,65536', 'facility'], ['12345678', 'facility'], ['1,2,3', 'facility'],
      ['a1', 'octal' as 'hex'],
    ];
    for (const [text, form] of bad) expect([text, form, code(() => normaliseCardUid(text, form))]).toEqual([text, form, 'BAD_CARD_UID']);
  });

  it('createSite makes a random site card key that appears in no entry', () => {
    const a = createSite({ name: 'A', now: 1 });
    const b = createSite({ name: 'B', now: 1 });
    expect(SiteCardKey.safeParse(a.cardKey).success).toBe(true);
    expect(a.cardKey).not.toBe(b.cardKey);
    expect(canonicalString(a.genesis.entry)).not.toContain(a.cardKey);
    expect(generateSiteCardKey()).toMatch(/^[0-9a-f]{64}$/);
  });
});

