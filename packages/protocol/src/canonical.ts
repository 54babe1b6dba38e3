/**
 * Canonical encoding (DESIGN §4): JSON with object keys sorted by UTF-16 code unit (as in
 * RFC 8785), no whitespace, UTF-8, integers only. Floats, -0, NaN, undefined, functions,
 * sparse arrays and lone surrogates are refused rather than coerced, so the same value has
 * exactly one encoding in every engine. Key order never depends on insertion order.
 */
import { ProtocolError } from './errors.js';
import { utf8 } from './bytes.js';

export type CanonicalValue =
  | null
  | boolean
  | number
  | string
  | CanonicalValue[]
  | { [k: string]: CanonicalValue };

// Lone surrogates cannot be encoded as UTF-8; refuse them.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function encodeString(s: string, path: string): string {
  if (LONE_SURROGATE.test(s)) {
    throw new ProtocolError('NON_CANONICAL', `string at ${path} has a lone surrogate; send valid Unicode text`);
  }
  return JSON.stringify(s);
}

function enc(v: unknown, path: string): string {
  switch (typeof v) {
    case 'string':
      return encodeString(v, path);
    case 'number':
      if (!Number.isSafeInteger(v) || Object.is(v, -0)) {
        throw new ProtocolError('NON_CANONICAL', `number ${String(v)} at ${path} is not a safe integer; encode fractions or big values as strings`);
      }
      return String(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        let s = '[';
        for (let i = 0; i < v.length; i++) {
          if (!(i in v)) throw new ProtocolError('NON_CANONICAL', `array at ${path} has a hole at ${i}`);
          if (i) s += ',';
          s += enc(v[i], `${path}[${i}]`);
        }
        return s + ']';
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        throw new ProtocolError('NON_CANONICAL', `value at ${path} is a ${proto?.constructor?.name ?? 'non-plain object'}; only plain objects, arrays, strings, integers, booleans and null encode`);
      }
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      let s = '{';
      let first = true;
      for (const k of keys) {
        const val = obj[k];
        if (val === undefined) {
          throw new ProtocolError('NON_CANONICAL', `field ${path}.${k} is undefined; omit the field or use null`);
        }
        if (!first) s += ',';
        first = false;
        s += encodeString(k, path) + ':' + enc(val, `${path}.${k}`);
      }
      return s + '}';
    }
    default:
      throw new ProtocolError('NON_CANONICAL', `value at ${path} is of type ${typeof v}, which has no canonical encoding`);
  }
}

/** Canonical JSON text of `v`. Throws NON_CANONICAL naming the offending path. */
export function canonicalString(v: unknown): string {
  return enc(v, '$');
}

/** Canonical UTF-8 bytes of `v`. */
export function canonicalBytes(v: unknown): Uint8Array {
  return utf8(canonicalString(v));
}
