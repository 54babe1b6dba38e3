/** Temporary real SQLite files for the ledger's tests (removed at process exit). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger, type LedgerOptions } from './ledger.js';

const dirs: string[] = [];
process.on('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix = 'keymesh-ledger-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

let n = 0;
export function tempLedger(site: string, opts: Partial<LedgerOptions> = {}, dir = tempDir()): Ledger {
  return Ledger.open(join(dir, `ledger-${n++}.db`), { durability: 'process', ...opts, site });
}
