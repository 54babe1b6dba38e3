/**
 * Issue 11, Acceptance: no schema of an entry or message accepts a raw card uid. Walks every
 * zod schema the package exports (and every entry body), finds each field whose name mentions
 * a card or a uid, and shows it refuses uids as readers report them and accepts a reference.
 */
import { describe, it, expect } from '@jest/globals';
import { z } from 'zod';
import * as protocol from '../index.js';
import { cardRef, normaliseCardUid } from '../card-ref.js';
import { BODY_SCHEMAS } from './bodies.js';

type Def = { type: string; shape?: Record<string, z.ZodType>; element?: z.ZodType; innerType?: z.ZodType; options?: z.ZodType[]; keyType?: z.ZodType; valueType?: z.ZodType; in?: z.ZodType; out?: z.ZodType; left?: z.ZodType; right?: z.ZodType };
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;
const CARD_FIELD = /card|uid/i;
/** Fields whose name mentions a card but that hold no card number: the site card key (provisioning files). */
const NOT_A_CARD = new Set(['cardKey']);

/** Every field (path) under `schema` whose name mentions a card or a uid, with its schema. */
function cardFields(schema: z.ZodType, path: string, out: Map<string, z.ZodType>, seen = new Set<z.ZodType>()): void {
  if (seen.has(schema)) return;
  seen.add(schema);
  const d = defOf(schema);
  const walk = (s: z.ZodType | undefined, p: string) => s && cardFields(s, p, out, seen);
  switch (d.type) {
    case 'object':
      for (const [k, v] of Object.entries(d.shape!)) {
        if (CARD_FIELD.test(k) && !NOT_A_CARD.has(k)) out.set(`${path}.${k}`, v);
        walk(v, `${path}.${k}`);
      }
      break;
    case 'array': walk(d.element, `${path}[]`); break;
    case 'optional': case 'nullable': case 'default': case 'readonly': case 'nonoptional': case 'catch': walk(d.innerType, path); break;
    case 'union': d.options!.forEach((o, i) => walk(o, `${path}|${i}`)); break;
    case 'intersection': walk(d.left, path); walk(d.right, path); break;
    case 'record': walk(d.keyType, `${path}{key}`); walk(d.valueType, `${path}{}`); break;
    case 'pipe': walk(d.in, path); walk(d.out, path); break;
    default: break;
  }
}

const schemas = new Map<string, z.ZodType>();
for (const [name, value] of Object.entries(protocol)) if (value instanceof z.ZodType) schemas.set(name, value);
for (const [type, s] of Object.entries(BODY_SCHEMAS)) schemas.set(`body of ${type}`, s as z.ZodType);
const fields = new Map<string, z.ZodType>();
for (const [name, s] of schemas) cardFields(s, name, fields);

const RAW_UIDS = [
  '0a1b2c3d', // 4-byte MIFARE uid, hex
  '04a1b2c3d4e5f6', // 7-byte uid
  '04a1b2c3d4e5f6a7b8c9', // 10-byte uid
  '0a1b2c3d4e', // EM4100, hex
  '0012345678', // the decimal number printed on a fob
  '123:45678', // Wiegand facility:number
  'A1B2C3D4',
  'c1',
];

describe('card fields', () => {
  it('the walk finds every card field the entries and messages have', () => {
    const names = [...fields.keys()];
    for (const expected of ['CardBind.card', 'CardUnbind.card', 'Credential.card', 'AccessDecision.credential.card', 'DoorEvent.cause|0.card']) {
      expect(names).toContain(expected);
    }
  });

  it.each([...fields.entries()].map(([p, s]) => [p, s] as const))('%s refuses raw uids and accepts a reference', (_path, schema) => {
    const ref = cardRef('33'.repeat(32), normaliseCardUid('04a1b2c3d4e5f6', 'hex'));
    // A field that holds an object (a credential) is checked through its own card field, shown
    // here by wrapping the uid and the reference the way it is written.
    const shapes = defOf(schema).type === 'object' ? (v: string) => ({ kind: 'card', card: v }) : (v: string) => v;
    for (const uid of RAW_UIDS) expect(schema.safeParse(shapes(uid)).success).toBe(false);
    expect(schema.safeParse(shapes(ref)).success).toBe(true);
  });
});
