/**
 * The site a ledger file belongs to, read without creating or changing the file (Ledger.open
 * creates a missing file and needs the site up front; tools that open someone else's database
 * ask it here first).
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { LedgerError } from './errors.js';

/**
 * `meta.site` of the ledger file at `path`; null when the file is an empty database (no tables
 * yet) or records no site. Throws LedgerError when the file does not exist (LEDGER_NOT_FOUND), is not SQLite, or
 * is an SQLite database of something else.
 */
export function siteOf(path: string): string | null {
  if (!existsSync(path)) {
    throw new LedgerError('LEDGER_NOT_FOUND', `${path}; check the path.`, { path });
  }
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw asLedgerError(path, err);
  }
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>;
    if (tables.length === 0) return null;
    if (!tables.some((t) => t.name === 'meta')) {
      throw new LedgerError('LEDGER_NOT_A_DATABASE', `${path} is an SQLite database but not a Keymesh ledger (it has no meta table). Check the path.`);
    }
    const row = db.prepare("SELECT value FROM meta WHERE key = 'site'").get() as { value: string } | undefined;
    return row?.value ?? null;
  } catch (err) {
    throw asLedgerError(path, err);
  } finally {
    db.close();
  }
}

function asLedgerError(path: string, err: unknown): LedgerError {
  if (err instanceof LedgerError) return err;
  const code = (err as { code?: string }).code;
  const message = (err as Error).message;
  if (code === 'SQLITE_NOTADB') {
    return new LedgerError('LEDGER_NOT_A_DATABASE', `${path} is not an SQLite database (${message}). Check the path; if the file was damaged, move it aside and let the node re-sync.`);
  }
  return new LedgerError('LEDGER_CORRUPT', `${path}: ${message}. Move the file aside (keep it for forensics) and start with an empty ledger to re-sync, or restore the last backup.`);
}
