/**
 * What every Keymesh command-line tool shares (keymesh-ledger here; the node and coordinator
 * tools import it as `@keymesh/ledger/cli`): the exit statuses and the one place error codes
 * map to them, usage errors, --help, failure reports (stderr, and one JSON document with
 * --json), stdout with back-pressure, progress lines on stderr, and a quiet end when the
 * reader of stdout goes away (`keymesh-ledger export DB | head`).
 */
import { once } from 'node:events';
import { defineErrors, KeymeshError } from '@keymesh/protocol';

/** Exit statuses, the same for every command of every tool. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const;
export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

export const CLI_ERRORS = {
  USAGE: 'invalid arguments',
} as const;
/** A mistake on the command line (unknown flag, missing argument, a path that does not exist). */
export const UsageError = defineErrors('UsageError', CLI_ERRORS);
export type UsageError = KeymeshError<keyof typeof CLI_ERRORS>;

/** Codes whose exit status is not FAILED. Any other error, coded or not, is FAILED. */
const STATUS_OF_CODE: Readonly<Record<string, ExitStatus>> = {
  USAGE: EXIT.USAGE,
};

/** The exit status of a command that threw `err`. */
export function exitStatusOf(err: unknown): ExitStatus {
  const code = err instanceof KeymeshError ? err.code : undefined;
  return (code === undefined ? undefined : STATUS_OF_CODE[code]) ?? EXIT.FAILED;
}

/** Thrown by Out.write once the reader of stdout has gone: the command stops, status OK. */
class ReaderGone extends Error {}

/** Writes to stdout, waiting when the pipe is full (exports can be large). */
export class Out {
  private buf = '';
  private gone = false;
  private failure: Error | undefined;
  private readonly onError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') this.gone = true;
    else this.failure = err;
    process.stdout.emit('drain'); // wake a write waiting for room
  };

  constructor() {
    process.stdout.on('error', this.onError);
  }

  async write(s: string): Promise<void> {
    this.buf += s;
    if (this.buf.length > 1 << 16) await this.flush();
  }

  async flush(): Promise<void> {
    const b = this.buf;
    this.buf = '';
    this.check();
    if (b && !process.stdout.write(b)) await once(process.stdout, 'drain');
    this.check();
  }

  close(): void {
    process.stdout.off('error', this.onError);
  }

  private check(): void {
    if (this.gone) throw new ReaderGone();
    if (this.failure) throw this.failure;
  }
}

/** A progress line on stderr at most every `everyMs`, starting `everyMs` after the start. */
export function throttled(name: string, everyMs = 2000): (line: () => string) => void {
  let last = Date.now();
  return (line) => {
    const now = Date.now();
    if (now - last < everyMs) return;
    last = now;
    process.stderr.write(`${name}: ${line()}\n`);
  };
}

/** What a tool tells runCli: how to read its arguments, its help, and how to run. */
export interface CliSpec<A extends { help: boolean; json: boolean }> {
  /** The tool's name, which starts every line it writes to stderr. */
  name: string;
  /** Throws UsageError on a mistake. */
  parse(argv: readonly string[]): A;
  help(args: A): string;
  run(args: A, out: Out): Promise<number> | number;
}

/** Runs one invocation of a tool; returns its exit status (the bin sets process.exitCode). */
export async function runCli<A extends { help: boolean; json: boolean }>(spec: CliSpec<A>, argv: readonly string[]): Promise<number> {
  const out = new Out();
  try {
    let args: A;
    try {
      args = spec.parse(argv);
    } catch (err) {
      return report(spec.name, argv.includes('--json'), err);
    }
    try {
      if (args.help) {
        await out.write(spec.help(args) + '\n');
        await out.flush();
        return EXIT.OK;
      }
      const status = await spec.run(args, out);
      await out.flush();
      return status;
    } catch (err) {
      if (err instanceof ReaderGone) return EXIT.OK;
      return report(spec.name, args.json, err);
    }
  } finally {
    out.close();
  }
}

/** Reports a failure on stderr (and as JSON on stdout with --json); returns its exit status. */
function report(name: string, json: boolean, err: unknown): number {
  const e = err as NodeJS.ErrnoException;
  const code = err instanceof KeymeshError ? err.code : e?.code ?? 'ERROR';
  const message = e?.code === 'EACCES' ? `${e.message}; check the file's permissions.` : String(e?.message ?? err);
  process.stderr.write(`${name}: ${message}\n`);
  if (json) process.stdout.write(JSON.stringify({ ok: false, error: { code, message } }) + '\n');
  return exitStatusOf(err);
}
export * from './systemd.js';
