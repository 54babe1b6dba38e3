/**
 * The per-line checks of ingest that need no ledger state: size, UTF-8, JSON, envelope and
 * canonical bytes (protocol's parseEntryText: the one check every path uses, so ingest of
 * strings and objects, the worker pool, import and sync all refuse the same bytes for the same
 * reason), and the hash of the received bytes. Pure, so they run on the main thread or in a
 * worker (see ingest-pool.ts) with the same code and the same reasons.
 */
import { parseEntryText, unsignedWireText, utf8, type AnyEntry, type CryptoProvider } from '@keymesh/protocol';
import { REJECT_REASONS, type RejectCode } from './errors.js';

export interface LineRejection {
  code: RejectCode;
  reason: string;
  author: string | null;
  seq: number | null;
}

/** `known` false: an entry of a newer release (DESIGN §4), stored inert once verified. */
export type LineCheck = ({ ok: true; entry: AnyEntry; hash: Uint8Array; known: boolean }) | ({ ok: false } & LineRejection);

/**
 * What the worker pool hands to Ledger.ingestChecked for one line: its hash (an entry this
 * release understands), its hash marked as held for a newer version, or why it was refused.
 */
export type CheckedLine = Uint8Array | { hash: Uint8Array; known: false } | LineRejection;

export function checkLine(text: string, crypto: CryptoProvider): LineCheck {
  let parsed: { entry: AnyEntry; known: boolean };
  try {
    parsed = parseEntryText(text);
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'SCHEMA';
    const guess = headerOf(text);
    return { ok: false, code: code in REJECT_REASONS ? (code as RejectCode) : 'SCHEMA', reason: (err as Error).message, ...guess };
  }
  // The bytes are canonical (checked above), so the received text minus `sig` is exactly what
  // the author hashed: no need to encode the entry again.
  try {
    return { ok: true, entry: parsed.entry, hash: crypto.sha256(utf8(unsignedWireText(text))), known: parsed.known };
  } catch (err) {
    return { ok: false, code: 'SCHEMA', reason: (err as Error).message, author: parsed.entry.author, seq: parsed.entry.seq };
  }
}

/** Best effort author/seq from bytes that failed to decode, for the quarantine record. */
export function headerOf(text: string): { author: string | null; seq: number | null } {
  const a = /"author":"([0-9a-f]{64})"/.exec(text);
  const s = /"seq":(\d{1,15})/.exec(text);
  return { author: a?.[1] ?? null, seq: s ? Number(s[1]) : null };
}
