/**
 * The per-line checks of ingest that need no ledger state: size, JSON, schema, and the hash of
 * the received bytes. Pure, so they run on the main thread or in a worker (see ingest-pool.ts)
 * with the same code and the same reasons.
 */
import { parseEntryText, unsignedWireText, utf8, type AnyEntry, type CryptoProvider } from '@keymesh/protocol';
import { REJECT_REASONS, type RejectCode } from './errors.js';

export type LineCheck =
  | { ok: true; entry: AnyEntry; hash: Uint8Array }
  | { ok: false; code: RejectCode; reason: string; author: string | null; seq: number | null };

export function checkLine(text: string, crypto: CryptoProvider): LineCheck {
  let entry: AnyEntry;
  try {
    entry = parseEntryText(text).entry; // canonical bytes are proven by the hash below
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'SCHEMA';
    const guess = headerOf(text);
    return { ok: false, code: code in REJECT_REASONS ? (code as RejectCode) : 'SCHEMA', reason: (err as Error).message, ...guess };
  }
  // Hash the received bytes (minus sig) rather than a re-encoding: if they are not canonical
  // the hash is not the one the author signed, and the signature or the next link fails.
  try {
    return { ok: true, entry, hash: crypto.sha256(utf8(unsignedWireText(text))) };
  } catch (err) {
    return { ok: false, code: 'SCHEMA', reason: (err as Error).message, author: entry.author, seq: entry.seq };
  }
}

/** Best effort author/seq from bytes that failed to decode, for the quarantine record. */
export function headerOf(text: string): { author: string | null; seq: number | null } {
  const a = /"author":"([0-9a-f]{64})"/.exec(text);
  const s = /"seq":(\d{1,15})/.exec(text);
  return { author: a?.[1] ?? null, seq: s ? Number(s[1]) : null };
}
