// Argument parsing for `keymesh-chunk`, kept apart from I/O so it can be tested directly.
import { LIMITS } from './params.js';

export const USAGE = `usage: keymesh-chunk FILE [--min N] [--avg N] [--max N] [--level 0-3] [--seed N]
                     [--impl native|ts] [--sha256]

Prints the FastCDC 2020 cut points of FILE (use - for stdin), one "offset length" line per chunk
(with --sha256, a third column holds each chunk's SHA-256). Cut points match the Rust crate
fastcdc (module v2020) for the same parameters.

  --min N      smallest chunk in bytes, ${LIMITS.min.low}..${LIMITS.min.high} (default 16384)
  --avg N      target average in bytes, ${LIMITS.avg.low}..${LIMITS.avg.high} (default 65536)
  --max N      largest chunk in bytes, ${LIMITS.max.low}..${LIMITS.max.high} (default 262144)
  --level L    normalisation level 0, 1, 2 or 3 (default 1)
  --seed N     64-bit gear-table seed, decimal or 0x hex (default 0 = unseeded)
  --impl I     native (C addon) or ts (TypeScript fallback); default: native if it loads
  --sha256     also print the SHA-256 of each chunk
  -h, --help   show this help

example: keymesh-chunk bundle.tar --min 4096 --avg 16384 --max 65535 --level 2`;

export interface CliOptions {
  file: string;
  min?: number;
  avg?: number;
  max?: number;
  level?: number;
  seed?: bigint;
  impl?: 'native' | 'ts';
  sha256: boolean;
}

export type ParsedArgs = { help: true } | { help: false; options: CliOptions };

/** A usage mistake: the CLI prints the message and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

function integer(flag: string, raw: string | undefined): number {
  if (raw === undefined || !/^\d+$/.test(raw)) {
    throw new UsageError(`${flag} needs a whole number of bytes, got ${raw === undefined ? 'nothing' : `"${raw}"`}; ` +
      `for example ${flag} 16384.`);
  }
  return Number(raw);
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const o: Partial<CliOptions> & { sha256: boolean } = { sha256: false };
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string | undefined => (eq > 0 ? arg.slice(eq + 1) : argv[++i]);
    switch (flag) {
      case '-h': case '--help': return { help: true };
      case '--min': o.min = integer('--min', value()); break;
      case '--avg': o.avg = integer('--avg', value()); break;
      case '--max': o.max = integer('--max', value()); break;
      case '--level': {
        const raw = value();
        if (raw === undefined || !/^[0-3]$/.test(raw)) {
          throw new UsageError(`--level needs 0, 1, 2 or 3, got ${raw === undefined ? 'nothing' : `"${raw}"`}; for example --level 2.`);
        }
        o.level = Number(raw);
        break;
      }
      case '--seed': {
        const raw = value();
        if (raw === undefined || !/^(\d+|0x[0-9a-fA-F]+)$/.test(raw) || BigInt(raw) >= 1n << 64n) {
          throw new UsageError(`--seed needs an unsigned 64-bit integer (decimal or 0x hex), got ${raw === undefined ? 'nothing' : `"${raw}"`}; for example --seed 0.`);
        }
        o.seed = BigInt(raw);
        break;
      }
      case '--impl': {
        const raw = value();
        if (raw !== 'native' && raw !== 'ts') {
          throw new UsageError(`--impl needs "native" or "ts", got ${raw === undefined ? 'nothing' : `"${raw}"`}.`);
        }
        o.impl = raw;
        break;
      }
      case '--sha256': o.sha256 = true; break;
      default:
        if (arg.startsWith('-') && arg !== '-') {
          throw new UsageError(`unknown option "${arg}"; run keymesh-chunk --help for the options.`);
        }
        files.push(arg);
    }
  }
  if (files.length !== 1) {
    throw new UsageError(files.length === 0
      ? 'no FILE given; pass the file to chunk, e.g. keymesh-chunk bundle.tar --avg 16384.'
      : `one FILE expected, got ${files.length} (${files.join(', ')}); run it once per file.`);
  }
  return { help: false, options: { ...o, file: files[0]! } };
}
