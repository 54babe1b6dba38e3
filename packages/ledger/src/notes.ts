/**
 * Small durable notes of the layers above the ledger (sync's "rules confirmed fresh at",
 * DESIGN §6), in the file's `meta` table under a `note.` prefix, apart from the ledger's own keys.
 */
import type { LedgerCore } from './core.js';

const NOTE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/** Reads the note `name`; with `value`, writes it first (one statement, durable as the ledger's mode). */
export function note(l: LedgerCore, name: string, value?: string): string | undefined {
  if (!NOTE_NAME.test(name)) throw new RangeError(`note name ${JSON.stringify(name)} must be 1-64 letters, digits, _ . - starting with a letter`);
  if (value !== undefined) l.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(`note.${name}`, value);
  const row = l.db.prepare('SELECT value FROM meta WHERE key = ?').get(`note.${name}`) as { value: string } | undefined;
  return row?.value;
}
