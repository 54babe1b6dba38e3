/**
 * Real processes for system tests: the project's command-line tools and Debian's Mosquitto
 * tools, run with a time limit so a hung child fails its test instead of the whole run, and
 * long-running servers that are always killed at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The repository's root (testkit lives in packages/testkit/dist). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const KEYMESH_BIN = `${REPO_ROOT}packages/coordinator/bin/keymesh.js`;
export const KEYMESH_EDGE_BIN = `${REPO_ROOT}packages/edge-agent/bin/keymesh-edge.js`;

/** Runs `cmd args` to its end, or kills it after `timeoutMs` (the result says so by its signal). */
export function run(cmd: string, args: readonly string[], o: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...o.env }, cwd: o.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), o.timeoutMs ?? 20_000);
    p.on('error', (err) => (clearTimeout(t), reject(err)));
    p.on('close', (code, signal) => (clearTimeout(t), resolve({ code, signal, stdout, stderr })));
    p.stdin.end(o.input ?? '');
  });
}

/** `keymesh …` as an operator runs it. */
export function keymesh(args: readonly string[], o: Parameters<typeof run>[2] = {}): Promise<Ran> {
  return run(process.execPath, [KEYMESH_BIN, ...args], o);
}

/** `keymesh-edge …` as an operator runs it on the Pi. */
export function keymeshEdge(args: readonly string[], o: Parameters<typeof run>[2] = {}): Promise<Ran> {
  return run(process.execPath, [KEYMESH_EDGE_BIN, ...args], o);
}

const started = new Set<ChildProcess>();

/** Starts a long-running process; `stopAll()` (afterAll) kills whatever is left. */
export function start(cmd: string, args: readonly string[], o: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): ChildProcess & { output: () => string } {
  const p = spawn(cmd, args, { env: { ...process.env, ...o.env }, cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  started.add(p);
  p.on('exit', () => started.delete(p));
  return Object.assign(p, { output: () => out });
}

/** Waits for a child to exit; kills it with SIGKILL after `timeoutMs`. */
export function exited(p: ChildProcess, timeoutMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve({ code: p.exitCode, signal: p.signalCode });
  return new Promise((resolve) => {
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.once('exit', (code, signal) => (clearTimeout(t), resolve({ code, signal })));
  });
}

export async function stopAll(): Promise<void> {
  for (const p of [...started]) {
    p.kill('SIGKILL');
    await exited(p, 5000);
  }
}

/** Polls until `read()` returns something other than undefined, or throws after `timeoutMs` naming `what`. */
export async function eventually<T>(what: string, read: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A JSON file's content once it exists and parses. */
export function jsonFileWhenReady<T>(path: string, timeoutMs = 15_000): Promise<T> {
  return eventually(path, () => {
    if (!existsSync(path)) return undefined;
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as T;
    } catch {
      return undefined;
    }
  }, timeoutMs);
}
