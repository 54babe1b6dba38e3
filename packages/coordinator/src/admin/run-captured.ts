/**
 * `keymesh …` run in this process with what it writes to stdout and stderr captured instead of
 * printed: for tests of the commands, which run them as an operator would without a child
 * process per call.
 */
import { main } from '../cli/main.js';

export interface Captured {
  code: number;
  out: string;
  err: string;
}

export async function runCaptured(argv: readonly string[]): Promise<Captured> {
  const w = { out: process.stdout.write, err: process.stderr.write };
  let out = '';
  let err = '';
  const grab = (add: (s: string) => void) => ((chunk: unknown, ...rest: unknown[]) => {
    add(String(chunk));
    (rest.find((x) => typeof x === 'function') as (() => void) | undefined)?.();
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = grab((s) => (out += s));
  process.stderr.write = grab((s) => (err += s));
  try {
    return { code: await main(argv), out, err };
  } finally {
    process.stdout.write = w.out;
    process.stderr.write = w.err;
  }
}
