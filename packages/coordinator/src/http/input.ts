/**
 * Request input through zod: every query, body and path parameter is parsed with a strict
 * schema (unknown fields refused), and a failure is a BAD_REQUEST naming the field.
 */
import { z } from 'zod';
import { badRequest, describeZod } from './errors.js';

/** Parses `value` (a request's query, body or params) with `schema`, or throws BAD_REQUEST naming the field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: 'query' | 'body' | 'path'): z.infer<S> {
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw badRequest(`${describeZod(r.error, where)}; fix the request and send it again`);
  return r.data;
}

/** An integer in a query string (`?limit=20`). */
export const queryInt = (min: number, max: number) => z.string().regex(/^\d{1,16}$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(min).max(max));

/** A boolean in a query string: `true` or `false`. */
export const queryBool = z.enum(['true', 'false']).transform((v) => v === 'true');

/** A short search or id text in a query string. */
export const queryText = (max = 128) => z.string().min(1).max(max);

/** An empty query: a route that takes no parameters refuses any. */
export const NoQuery = z.strictObject({});
