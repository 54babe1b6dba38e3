// `keymesh-ledger <verify|digest|heads|export|import|clear> DB ...`: operator and forensics tool
// for a ledger database. Exit statuses: scaffold.ts (0 ok, 1 problems found or a runtime error,
// 2 usage error). Help texts: usage.ts.
import { parseArgs } from './args.js';
import { USAGE } from './usage.js';
import { runCli } from './scaffold.js';
import { run } from './commands.js';

export function main(argv: readonly string[]): Promise<number> {
  return runCli({ name: 'keymesh-ledger', parse: parseArgs, help: (args) => USAGE[args.command ?? 'main'], run }, argv);
}
