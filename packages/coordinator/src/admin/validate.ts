/**
 * Turning typed flag values into entry fields, and checking a built body against the protocol's
 * schema before anything is signed, so a bad value is refused with the flag that carried it
 * (`--unlock-seconds "0": must be at least 1`), not a field path the operator never typed.
 */
import { z } from 'zod';
import { BODY_SCHEMAS, Id, PublicKeyHex, type BodyOf, type EntryType } from '@keymesh/protocol';
import { UsageError } from '@keymesh/ledger/cli';

/** Body field (first path element) → how the operator typed it: `--name`, `MEMBER`. */
export type FieldFlags = Record<string, string>;

/** Checks `body` against `type`'s schema; a refusal names the flag of the first bad field. */
export function checkBody<T extends EntryType>(type: T, body: BodyOf<T>, flags: FieldFlags): BodyOf<T> {
  const schema = BODY_SCHEMAS[type] as unknown as z.ZodType<BodyOf<T>>;
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = String(issue.path[0] ?? '');
  const flag = flags[field] ?? (field ? `the ${field} field` : 'the entry');
  let value: unknown = (body as Record<string, unknown>)[field];
  for (const p of issue.path.slice(1)) value = (value as Record<PropertyKey, unknown> | undefined)?.[p as PropertyKey];
  const shown = value === undefined || typeof value === 'object' ? '' : ` ${JSON.stringify(value)}`;
  throw new UsageError('USAGE', `${flag}${shown}: ${issue.message}. See --help.`);
}

/** An id (member, resource, certification) typed as `what`; refused with the rule it breaks. */
export function id(value: string, what: string): string {
  const r = Id.safeParse(value);
  if (!r.success) throw new UsageError('USAGE', `${what} ${JSON.stringify(value)}: ${r.error.issues[0]!.message}.`);
  return value;
}

/** A public key typed as `what` (64 lowercase hex characters). */
export function publicKey(value: string, what: string): string {
  const v = value.trim().toLowerCase();
  if (!PublicKeyHex.safeParse(v).success) throw new UsageError('USAGE', `${what} ${JSON.stringify(value.slice(0, 80))} is not a public key: give the 64 hex characters (\`keymesh status\` and the dashboard show them).`);
  return v;
}

/** A whole number flag within [min, max], or null for "none" when `noneOk`. */
export function intFlag(value: string, flag: string, min: number, max: number, noneOk = false): number | null {
  if (noneOk && /^(none|off|never)$/i.test(value)) return null;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError('USAGE', `${flag} ${JSON.stringify(value)}: give a whole number from ${min} to ${max}${noneOk ? ', or none' : ''}.`);
  }
  return n;
}

/** One of `choices`, or a refusal naming the flag and the choices. */
export function choice<C extends string>(value: string, flag: string, choices: readonly C[]): C {
  if (!(choices as readonly string[]).includes(value)) throw new UsageError('USAGE', `${flag} ${JSON.stringify(value)}: choose one of ${choices.join(', ')}.`);
  return value as C;
}

/**
 * A date flag (membership paid up to): YYYY-MM-DD (the end of that day, local time), a full
 * ISO 8601 time, or `never`. Returns ms since the epoch, or null for never.
 */
export function dateFlag(value: string, flag: string): number | null {
  if (/^(never|none)$/i.test(value)) return null;
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  let ms: number;
  if (day) {
    const [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
    const end = new Date(y, m - 1, d, 23, 59, 59, 999);
    ms = end.getFullYear() === y && end.getMonth() === m - 1 && end.getDate() === d ? end.getTime() : NaN;
  } else {
    ms = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : NaN;
  }
  if (!Number.isFinite(ms) || ms < 0 || ms > 2 ** 47) {
    throw new UsageError('USAGE', `${flag} ${JSON.stringify(value)}: give a date as YYYY-MM-DD (valid to the end of that day), an ISO time such as 2027-01-31T18:00:00Z, or never.`);
  }
  return ms;
}

/** A repeatable string flag's values (parseArgs gives an array with `multiple: true`). */
export function list(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];
}
