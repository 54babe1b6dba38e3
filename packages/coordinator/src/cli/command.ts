/**
 * One `keymesh` command: its words, its help, its flags (node:util parseArgs) and how it runs.
 * Each command is a file in cli/commands/ exporting a Command; cli/commands/index.ts lists
 * them. --help, --json and --data are given to every command here, once.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, type Out } from '@keymesh/ledger/cli';
import { DEFAULT_DATA_DIR } from '../data-dir.js';

export type Flags = NonNullable<ParseArgsConfig['options']>;
export type FlagValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface CommandRun {
  flags: FlagValues;
  positionals: string[];
  /** The data folder (--data, default ./keymesh-data). */
  data: string;
  json: boolean;
  out: Out;
  /** A progress line on stderr (long jobs). */
  progress(line: string): void;
}

export interface Command {
  /** The words that name it: ['member', 'add']. */
  words: readonly string[];
  /** One line for the command list. */
  summary: string;
  /** The help text after the usage line: flags, what it does, an example. */
  help: string;
  /** `NAME --kind door|machine`: what follows the words on the usage line. */
  usage: string;
  flags: Flags;
  /** How many positionals it takes. */
  positionals: { min: number; max: number };
  run(r: CommandRun): Promise<number> | number;
}

export const COMMON_FLAGS: Flags = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  data: { type: 'string' },
};

export const COMMON_HELP = `  --data DIR   the data folder (default ./${DEFAULT_DATA_DIR}, or $KEYMESH_DATA)
  --json       machine-readable output (one JSON document)
  --help       this text`;

export function parseCommand(cmd: Command, argv: readonly string[]): { flags: FlagValues; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...COMMON_FLAGS, ...cmd.flags }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError('USAGE', `${(err as Error).message.replace(/\. To specify.*$/s, '')}. See \`keymesh ${cmd.words.join(' ')} --help\`.`);
  }
  const { values, positionals } = parsed;
  if (!values.help && (positionals.length < cmd.positionals.min || positionals.length > cmd.positionals.max)) {
    throw new UsageError('USAGE', `\`keymesh ${cmd.words.join(' ')}\` takes ${cmd.usage || 'no arguments'}; got ${positionals.length ? positionals.map((p) => JSON.stringify(p)).join(' ') : 'none'}. See --help.`);
  }
  return { flags: values as FlagValues, positionals };
}

/** A string flag's value, or a UsageError naming the flag when it is required and missing. */
export function str(r: { flags: FlagValues }, name: string, required: true): string;
export function str(r: { flags: FlagValues }, name: string, required?: false): string | undefined;
export function str(r: { flags: FlagValues }, name: string, required = false): string | undefined {
  const v = r.flags[name];
  if (typeof v === 'string') return v;
  if (required) throw new UsageError('USAGE', `--${name} is required. See --help.`);
  return undefined;
}

/** A port flag: an integer 0-65535 (0 picks a free port). */
export function port(r: { flags: FlagValues }, name: string, fallback: number): number {
  const v = str(r, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new UsageError('USAGE', `--${name} "${v}" is not a port: give a whole number from 0 to 65535 (0 picks a free one).`);
  return n;
}
