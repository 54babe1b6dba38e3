/**
 * A known access event's fields as the ingest reads them, handed from the check worker to the
 * storing thread without a second parse of the line (most of a coordinator's intake is access
 * events; parsing each again was the storing thread's largest cost after SQLite's).
 *
 * The worker, which has just parsed the line and proven its bytes canonical, writes numbers
 * into a transferred Float64Array: the numeric fields, and where the string fields sit in the
 * line. The storing thread cuts the strings from the line (`fieldsAt`). The worker keeps a
 * record only after reading it back the same way and finding every field equal to its parse,
 * so what the storing thread reads is what parsing the line again would give.
 */
import { isEventType, type AnyEntry } from '@keymesh/protocol';

/** Numbers per line: see `record`. */
export const STRIDE = 14;

export interface EventFields {
  v: number;
  site: string;
  author: string;
  seq: number;
  prev: string | null;
  wall: number;
  logical: number;
  type: string;
  sig: string;
  resource: string;
  member: string | null;
  at: number;
  allow: boolean | null;
}

/**
 * Writes line `i`'s record into `out` (and returns true) when `entry`, parsed from `text`, is a
 * known access event whose record reads back as `entry` (fieldsAt); else leaves it empty (slot
 * 0 = 0), and the line is parsed again where it is stored. Positions come from the lengths of
 * the parsed fields: canonical text ends with the envelope's keys in order,
 * …,"prev":…,"seq":…,"sig":"…","site":"…","type":"…","v":…} (the check below catches any
 * position that would not hold).
 */
export function record(text: string, e: AnyEntry, known: boolean, out: Float64Array, i: number): boolean {
  if (!known || !isEventType(e.type)) return false;
  const b = e.body as { resource: string; member?: string | null; at: number; allow?: boolean };
  const typeAt = text.length - 7 - String(e.v).length - e.type.length; // …"type":"<type>","v":<v>}
  const sigAt = typeAt - 220;
  const prevAt = sigAt - 7 - String(e.seq).length - (e.prev === null ? 4 : 66) - 8;
  const rStart = text.indexOf('"resource":"', 9) + 12;
  const mStart = b.member == null ? -1 : text.indexOf('"member":"', 9) + 10;
  const o = i * STRIDE;
  out[o] = 1;
  out[o + 1] = e.v;
  out[o + 2] = e.seq;
  out[o + 3] = e.hlc.wall;
  out[o + 4] = e.hlc.logical;
  out[o + 5] = b.at;
  out[o + 6] = b.allow === undefined ? -1 : b.allow ? 1 : 0;
  out[o + 7] = prevAt;
  out[o + 8] = sigAt;
  out[o + 9] = typeAt + e.type.length;
  out[o + 10] = rStart;
  out[o + 11] = rStart + b.resource.length;
  out[o + 12] = mStart;
  out[o + 13] = b.member == null ? -1 : mStart + b.member.length;
  // Read back as the storing thread will, and compared with the parse: a line the record would
  // read otherwise gets none.
  const f = fieldsAt(text, out, o);
  const same = f.author === e.author && f.prev === e.prev && f.sig === e.sig && f.site === e.site && f.type === e.type
    && f.v === e.v && f.seq === e.seq && f.wall === e.hlc.wall && f.logical === e.hlc.logical
    && f.resource === b.resource && f.member === (b.member ?? null) && f.at === b.at && f.allow === (b.allow ?? null);
  if (!same) out[o] = 0;
  return same;
}

/** The fields of the line whose record starts at `o` (`record` wrote it; slot 0 is 1). */
export function fieldsAt(text: string, r: Float64Array, o: number): EventFields {
  const prevAt = r[o + 7]!;
  const sigAt = r[o + 8]!;
  const allow = r[o + 6]!;
  return {
    v: r[o + 1]!,
    author: text.slice(11, 75), // {"author":"<64 hex>",…
    seq: r[o + 2]!,
    wall: r[o + 3]!,
    logical: r[o + 4]!,
    at: r[o + 5]!,
    allow: allow < 0 ? null : allow === 1,
    prev: text[prevAt + 8] === 'n' ? null : text.slice(prevAt + 9, prevAt + 73),
    sig: text.slice(sigAt + 8, sigAt + 136),
    site: text.slice(sigAt + 146, sigAt + 210),
    type: text.slice(sigAt + 220, r[o + 9]!),
    resource: text.slice(r[o + 10]!, r[o + 11]!),
    member: r[o + 12]! < 0 ? null : text.slice(r[o + 12]!, r[o + 13]!),
  };
}
