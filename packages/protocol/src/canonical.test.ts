import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { canonicalString } from './canonical.js';
import { ProtocolError } from './errors.js';

describe('canonical encoding', () => {
  it('sorts keys at every depth and drops whitespace', () => {
    expect(canonicalString({ b: 1, a: { d: [3, { z: null, y: true }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":true,"z":null}]},"b":1}');
  });

  it('gives the same bytes whatever the insertion order of keys', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.integer()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(canonicalString(reversed)).toBe(canonicalString(obj));
      }),
      { numRuns: 1000 },
    );
  });

  it('round-trips through JSON.parse to the identical text', () => {
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.maxSafeInteger(), fc.string({ unit: 'grapheme' }),
        fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.string({ unit: 'grapheme' }), tie('v'), { maxKeys: 4 })),
    })).v;
    fc.assert(
      fc.property(value, (v) => {
        const text = canonicalString(v);
        expect(canonicalString(JSON.parse(text))).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  it('is JSON.stringify of the key-sorted value, for any UTF-16 text; text with a lone surrogate is refused', () => {
    const sortDeep = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(sortDeep)
        : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortDeep((v as Record<string, unknown>)[k])]))
          : v;
    const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
    const hasLone = (v: unknown): boolean =>
      typeof v === 'string' ? LONE.test(v)
        : Array.isArray(v) ? v.some(hasLone)
          : !!v && typeof v === 'object' && Object.entries(v).some(([k, x]) => LONE.test(k) || hasLone(x));
    // Any UTF-16 code unit, with the ones JSON escapes (and surrogates) made common.
    const unit = fc.oneof(fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u2028', '\ud800', '\udc00', '\ud83d\ude00', 'é'), fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)));
    const text = fc.string({ unit, maxLength: 12 });
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.maxSafeInteger(), text, fc.string({ unit: 'grapheme' }),
        fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(text, tie('v'), { maxKeys: 4 })),
    })).v;
    fc.assert(
      fc.property(value, (v) => {
        const reference = JSON.stringify(sortDeep(v));
        if (hasLone(v)) {
          expect(() => canonicalString(v)).toThrow(expect.objectContaining({ code: 'NON_CANONICAL', details: expect.objectContaining({ problem: 'lone-surrogate' }) }));
        } else {
          expect(canonicalString(v)).toBe(reference);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('names the path of the offending value, and the next call starts afresh', () => {
    expect(() => canonicalString({ a: [1, { b: 1.5 }] })).toThrow(expect.objectContaining({ code: 'NON_CANONICAL', details: expect.objectContaining({ path: '$.a[1].b', problem: 'unsafe-integer' }) }));
    expect(() => canonicalString({ x: { y: undefined } })).toThrow(expect.objectContaining({ code: 'NON_CANONICAL', details: expect.objectContaining({ path: '$.x.y', problem: 'undefined-field' }) }));
    expect(() => canonicalString([{ k: '\udc00' }])).toThrow(expect.objectContaining({ code: 'NON_CANONICAL', details: expect.objectContaining({ path: '$[0].k', problem: 'lone-surrogate' }) }));
    expect(canonicalString({ a: 1 })).toBe('{"a":1}');
  });

  it.each([
    ['a float', { x: 1.5 }, 'not a safe integer'],
    ['negative zero', { x: -0 }, 'not a safe integer'],
    ['NaN', [Number.NaN], 'not a safe integer'],
    ['an unsafe integer', 2 ** 53, 'not a safe integer'],
    ['undefined', { x: undefined }, 'undefined'],
    ['a lone surrogate', { x: '\ud800' }, 'lone surrogate'],
    ['a Date', { x: new Date(0) }, 'Date'],
    ['a bigint', { x: 1n }, 'bigint'],
  ])('refuses %s with a reason that names the path', (_what, value, words) => {
    expect(() => canonicalString(value)).toThrow(ProtocolError);
    expect(() => canonicalString(value)).toThrow(words);
  });
});
