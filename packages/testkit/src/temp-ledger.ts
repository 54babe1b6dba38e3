/** Ledgers in temporary real SQLite files for tests (removed at process exit). */
import { join } from 'node:path';
import { Ledger, type LedgerOptions } from '@keymesh/ledger';
import { tempDir } from './temp-files.js';

export { tempDir };

let n = 0;
export function tempLedger(site: string, opts: Partial<LedgerOptions> = {}, dir = tempDir()): Ledger {
  return Ledger.open(join(dir, `ledger-${n++}.db`), { durability: 'process', ...opts, site });
}
