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
// Strings JSON.stringify leaves as they are (no quote, backslash, control or surrogate code
// unit): the common case, quoted without calling it. One test instead of two (measured: the
// encoder was ~8% of an append).
const PLAIN = /^[^"\\\u0000-\u001f\uD800-\uDFFF]*$/;

/** Encoded object keys: entries reuse a few dozen field names. Bounded, in case of hostile input. */
const keyCache = new Map<string, string>();

// The path of the value being encoded ($, then keys and indexes), kept as a stack and only
// joined into text for an error message.
const path: Array<string | number> = [];
/** Deeper nesting is refused: no entry needs it, and recursion an author controls must stay shallow. */
export const MAX_CANONICAL_DEPTH = 32;
function tooDeep(): never {
  throw new ProtocolError('NON_CANONICAL', `value at ${pathText()} is nested deeper than ${MAX_CANONICAL_DEPTH} levels`, { path: pathText(), problem: 'too-deep' });
}
function pathText(): string {
  let s = '$';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : `.${p}`;
  return s;
}

function encodeString(s: string): string {
  if (PLAIN.test(s)) return '"' + s + '"';
  if (LONE_SURROGATE.test(s)) {
    throw new ProtocolError('NON_CANONICAL', `string at ${pathText()} has a lone surrogate; send valid Unicode text`, { path: pathText(), problem: 'lone-surrogate' });
  }
  return JSON.stringify(s);
}

function encodeKey(k: string): string {
  let e = keyCache.get(k);
  if (e === undefined) {
    e = encodeString(k);
    if (keyCache.size < 4096) keyCache.set(k, e);
  }
  return e;
}

function enc(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return encodeString(v);
    case 'number':
      if (!Number.isSafeInteger(v) || Object.is(v, -0)) {
        throw new ProtocolError('NON_CANONICAL', `number ${String(v)} at ${pathText()} is not a safe integer; encode fractions or big values as strings`, { path: pathText(), problem: 'unsafe-integer' });
      }
      return String(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (path.length >= MAX_CANONICAL_DEPTH) tooDeep();
      if (Array.isArray(v)) {
        let s = '[';
        for (let i = 0; i < v.length; i++) {
          if (!(i in v)) throw new ProtocolError('NON_CANONICAL', `array at ${pathText()} has a hole at ${i}`, { path: pathText(), problem: 'array-hole' });
          if (i) s += ',';
          path.push(i);
          s += enc(v[i]);
          path.pop();
        }
        return s + ']';
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        throw new ProtocolError('NON_CANONICAL', `value at ${pathText()} is a ${proto?.constructor?.name ?? 'non-plain object'}; only plain objects, arrays, strings, integers, booleans and null encode`, { path: pathText(), problem: 'not-plain' });
      }
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      let s = '{';
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        const val = obj[k];
        path.push(k);
        if (val === undefined) {
          throw new ProtocolError('NON_CANONICAL', `field ${pathText()} is undefined; omit the field or use null`, { path: pathText(), problem: 'undefined-field' });
        }
        if (i) s += ',';
        s += encodeKey(k) + ':' + enc(val);
        path.pop();
      }
      return s + '}';
    }
    default:
      throw new ProtocolError('NON_CANONICAL', `value at ${pathText()} is of type ${typeof v}, which has no canonical encoding`, { path: pathText(), problem: 'no-encoding' });
  }
}

/** Canonical JSON text of `v`. Throws NON_CANONICAL naming the offending path. */
export function canonicalString(v: unknown): string {
  path.length = 0; // left over if the last call threw
  return enc(v);
}

/** Canonical UTF-8 bytes of `v`. */
export function canonicalBytes(v: unknown): Uint8Array {
  return utf8(canonicalString(v));
}
