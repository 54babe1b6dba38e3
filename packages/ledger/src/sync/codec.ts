/**
 * Sync messages on the wire (DESIGN §7). `have` and `want` are JSON; a `batch` is a JSON header
 * line (`kind`, `node`, `to`) followed by one canonical entry per line, so an entry travels as
 * the exact bytes its author signed, never re-escaped inside a JSON string (a quote-heavy entry
 * would grow up to 6x and no longer fit). Canonical JSON has no raw newline, so lines split cleanly.
 */
import { Buffer } from 'node:buffer';
import { SyncMessage, describeZodError } from '@keymesh/protocol';

export function encodeSyncMessage(msg: SyncMessage): Uint8Array {
  return Buffer.from(encodeSyncText(msg));
}

/** The message as text (its UTF-8 bytes are encodeSyncMessage's). */
export function encodeSyncText(msg: SyncMessage): string {
  if (msg.kind !== 'batch') return JSON.stringify(msg);
  const { entries, ...header } = msg;
  return [JSON.stringify(header), ...entries].join('\n');
}

export type Decoded = { ok: true; msg: SyncMessage } | { ok: false; reason: string };

/** Parses and validates a payload; never throws. */
export function decodeSyncMessage(payload: Uint8Array): Decoded {
  let raw: unknown;
  try {
    const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
    const nl = text.indexOf('\n');
    if (nl < 0) {
      raw = JSON.parse(text);
      if (raw && typeof raw === 'object' && (raw as { kind?: unknown }).kind === 'batch') raw = { ...raw, entries: [] };
    } else {
      const header = JSON.parse(text.slice(0, nl)) as unknown;
      if (!header || typeof header !== 'object' || Array.isArray(header) || 'entries' in header) return { ok: false, reason: 'a multi-line message must be a batch: a header line without entries, then one entry per line' };
      raw = { ...header, entries: text.slice(nl + 1).split('\n') };
    }
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  const parsed = SyncMessage.safeParse(raw);
  return parsed.success ? { ok: true, msg: parsed.data } : { ok: false, reason: describeZodError(parsed.error) };
}
