// Argument parsing for `keymesh-ledger`, kept apart from I/O so it can be tested on its own. A
// mistake in the arguments is a UsageError (scaffold.ts): exit 2. The help texts: usage.ts.
import { UsageError } from './scaffold.js';

export const COMMANDS = ['verify', 'digest', 'heads', 'export', 'import', 'clear'] as const;
export type Command = (typeof COMMANDS)[number];

export interface Parsed {
  command: Command | null;
  help: boolean;
  json: boolean;
  db?: string;
  file?: string;
  site?: string;
  author?: string;
  batch: number;
  /** clear: what to clear (`pending`: true for all, or one author). */
  peers?: boolean;
  pending?: true | string;
  quarantine?: boolean;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Which flags each command takes (--json and --help go with all). */
const FLAGS: Record<Command, readonly string[]> = {
  verify: ['--site'],
  digest: ['--site'],
  heads: ['--site'],
  export: ['--site', '--author'],
  import: ['--site', '--batch'],
  clear: ['--site', '--peers', '--pending', '--quarantine'],
};
const POSITIONALS: Record<Command, readonly string[]> = {
  verify: ['DB'],
  digest: ['DB'],
  heads: ['DB'],
  export: ['DB'],
  import: ['DB', 'FILE.jsonl'],
  clear: ['DB'],
};

function hex64(flag: string, raw: string | undefined, what: string): string {
  if (raw === undefined || raw.startsWith('--')) throw new UsageError('USAGE', `${flag} needs ${what} (64 lowercase hex characters).`);
  if (!HEX64.test(raw)) throw new UsageError('USAGE', `${flag} "${raw}" is not ${what}: expected 64 lowercase hex characters.`);
  return raw;
}

export function parseArgs(argv: readonly string[]): Parsed {
  const out: Parsed = { command: null, help: false, json: false, batch: 5000 };
  const first = argv[0];
  if (first === undefined) throw new UsageError('USAGE', `no command given; use one of: ${COMMANDS.join(', ')} (keymesh-ledger --help).`);
  if (first === '-h' || first === '--help' || first === 'help') {
    out.help = true;
    const c = argv[1];
    if (c !== undefined && (COMMANDS as readonly string[]).includes(c)) out.command = c as Command;
    return out;
  }
  if (!(COMMANDS as readonly string[]).includes(first)) {
    throw new UsageError('USAGE', first.startsWith('-')
      ? `unknown option "${first}" before the command; put the command first: keymesh-ledger <${COMMANDS.join('|')}> ...`
      : `unknown command "${first}"; use one of: ${COMMANDS.join(', ')} (keymesh-ledger --help).`);
  }
  const command = first as Command;
  out.command = command;
  const positionals: string[] = [];
  let onlyPositionals = false;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (onlyPositionals || !arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    if (arg === '--') {
      onlyPositionals = true;
      continue;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string | undefined => (eq > 0 ? arg.slice(eq + 1) : argv[++i]);
    if (flag === '-h' || flag === '--help') {
      out.help = true;
      return out;
    }
    if (flag === '--json') {
      if (eq > 0) throw new UsageError('USAGE', '--json takes no value.');
      out.json = true;
      continue;
    }
    if (!FLAGS[command].includes(flag)) {
      const takes = FLAGS[command].length ? `it takes ${FLAGS[command].join(', ')}, --json and --help` : 'it takes --json and --help';
      throw new UsageError('USAGE', `unknown option "${flag}" for ${command}; ${takes} (keymesh-ledger ${command} --help).`);
    }
    if (flag === '--site') out.site = hex64('--site', value(), 'a site id');
    else if (flag === '--author') out.author = hex64('--author', value(), "an author's public key");
    else if (flag === '--peers' || flag === '--quarantine') {
      if (eq > 0) throw new UsageError('USAGE', `${flag} takes no value.`);
      out[flag === '--peers' ? 'peers' : 'quarantine'] = true;
    } else if (flag === '--pending') {
      // AUTHOR is optional: the next argument is taken as one only when it is a 64-hex key.
      const next = eq > 0 ? arg.slice(eq + 1) : argv[i + 1];
      if (eq > 0 || (next !== undefined && HEX64.test(next))) {
        out.pending = hex64('--pending', eq > 0 ? next : argv[++i], "an author's public key");
      } else out.pending = true;
    }
    else if (flag === '--batch') {
      const raw = value();
      if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 1_000_000) {
        throw new UsageError('USAGE', `--batch needs a number of lines from 1 to 1000000, got ${raw === undefined ? 'nothing' : `"${raw}"`}; for example --batch 5000.`);
      }
      out.batch = Number(raw);
    }
  }
  const want = POSITIONALS[command];
  if (positionals.length < want.length) {
    throw new UsageError('USAGE', `${command} needs ${want.join(' and ')}; missing ${want.slice(positionals.length).join(' and ')} (keymesh-ledger ${command} --help).`);
  }
  if (positionals.length > want.length) {
    throw new UsageError('USAGE', `${command} takes ${want.join(' ')} only; unexpected "${positionals[want.length]}" (keymesh-ledger ${command} --help).`);
  }
  out.db = positionals[0]!;
  if (command === 'import') out.file = positionals[1]!;
  if (command === 'clear' && !out.peers && !out.pending && !out.quarantine) {
    throw new UsageError('USAGE', 'clear needs at least one of --peers, --pending [AUTHOR], --quarantine (keymesh-ledger clear --help).');
  }
  return out;
}
