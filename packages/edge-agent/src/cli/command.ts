/**
 * One `keymesh-edge` command: a word, its help, its flags (node:util parseArgs) and how it runs.
 * Each command is a file in commands/; commands/index.ts lists them. --help and --json are
 * every command's.
 */
import type { ParseArgsConfig } from 'node:util';
import type { Out } from '@keymesh/ledger/cli';

export type EdgeFlags = NonNullable<ParseArgsConfig['options']>;
export type EdgeFlagValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface EdgeRun {
  flags: EdgeFlagValues;
  positionals: string[];
  json: boolean;
  out: Out;
}

export interface EdgeCommand {
  name: string;
  summary: string;
  /** `PROVISIONING_FILE`: what follows the name on the usage line. */
  usage: string;
  /** The help after the usage line: what it does, its flags, an example. */
  help: string;
  flags: EdgeFlags;
  positionals: { min: number; max: number };
  run(r: EdgeRun): Promise<number> | number;
}

/** A string flag, or undefined. */
export function flag(r: { flags: EdgeFlagValues }, name: string): string | undefined {
  const v = r.flags[name];
  return typeof v === 'string' ? v : undefined;
}
