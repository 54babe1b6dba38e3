/**
 * `keymesh …` run in this process with what it writes to stdout and stderr captured instead of
 * printed: for tests of the commands, which run them as an operator would without a child
 * process per call, and a site to try them on.
 */
import { join } from 'node:path';
import { Ledger } from '@keymesh/ledger';
import { main } from '../cli/main.js';
import { dataPaths, readSite } from '../data-dir.js';

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

/** A site made by `keymesh init` under `root` (data/ and keys/), and a runner that signs with its daily key. */
export interface TrySite {
  data: string;
  key: string;
  recovery: string;
  site: string;
  /** `keymesh …` with --data and --key of this site appended. */
  a(...argv: string[]): Promise<Captured>;
}

export async function initSiteIn(root: string): Promise<TrySite> {
  const data = join(root, 'data');
  const init = await runCaptured(['init', '--site', 'Test space', '--data', data, '--keys', join(root, 'keys'), '--json']);
  if (init.code !== 0) throw new Error(`keymesh init failed: ${init.err}`);
  const j = JSON.parse(init.out) as { site: string; dailyAdminKey: string; recoveryAdminKey: string };
  return { data, key: j.dailyAdminKey, recovery: j.recoveryAdminKey, site: j.site, a: (...argv) => runCaptured([...argv, '--data', data, '--key', j.dailyAdminKey]) };
}

/** Runs `fn` on the folder's ledger file, opened for this call only. */
export function withLedger<T>(data: string, fn: (l: Ledger) => T): T {
  const p = dataPaths(data);
  const l = Ledger.open(p.ledger, { site: readSite(p).site });
  try {
    return fn(l);
  } finally {
    l.close();
  }
}
