import { describe, it, expect } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { cardRef, generateSiteCardKey, SiteCardKey } from './card-ref.js';
import { CardRef } from './schemas/common.js';
import { createSite } from './site.js';
import { canonicalString } from './canonical.js';

const KEY = '11'.repeat(32);

describe('card references', () => {
  it('are the first 16 bytes of HMAC-SHA256(site card key, uid), hex (checked against node:crypto)', () => {
    for (const uid of ['04a1b2c3d4e5f6', '0012345678', '123:45678']) {
      const expected = createHmac('sha256', Buffer.from(KEY, 'hex')).update(uid, 'utf8').digest('hex').slice(0, 32);
      expect(cardRef(KEY, uid)).toBe(expected);
      expect(cardRef(Buffer.from(KEY, 'hex'), uid)).toBe(expected);
    }
    expect(CardRef.safeParse(cardRef(KEY, 'a1')).success).toBe(true);
  });

  it('differ between sites and between cards', () => {
    const other = '22'.repeat(32);
    expect(cardRef(KEY, 'a1')).not.toBe(cardRef(other, 'a1'));
    expect(cardRef(KEY, 'a1')).not.toBe(cardRef(KEY, 'a2'));
  });

  it('refuse a bad key or uid with typed codes', () => {
    expect(() => cardRef('11'.repeat(16), 'a1')).toThrow(expect.objectContaining({ code: 'BAD_KEY' }));
    expect(() => cardRef('XYZ', 'a1')).toThrow(expect.objectContaining({ code: 'BAD_KEY' }));
    for (const uid of ['', ' a1', 'a/1', 'x'.repeat(65)]) expect(() => cardRef(KEY, uid)).toThrow(expect.objectContaining({ code: 'BAD_CARD_UID' }));
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

