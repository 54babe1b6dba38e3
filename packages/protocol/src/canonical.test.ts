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
