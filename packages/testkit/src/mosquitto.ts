/**
 * Debian's Mosquitto in tests (issue 12: real clients and a real broker; `.ci/run` installs
 * `mosquitto` and `mosquitto-clients`): the command-line clients run with a timeout, and a
 * broker started on a free port of the loopback interface from a given configuration file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';

export const MOSQUITTO_BIN = '/usr/sbin/mosquitto';
export const MOSQUITTO_SUB = '/usr/bin/mosquitto_sub';
export const MOSQUITTO_PUB = '/usr/bin/mosquitto_pub';

export interface ClientRun {
  /** The exit code (null: killed at the timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A mosquitto client still running: its output so far, and how to end it. */
export interface RunningClient {
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when stdout holds `n` lines (rejects at `timeoutMs`). */
  lines(n: number, timeoutMs?: number): Promise<string[]>;
  /** Resolves when it exits by itself (or is killed at its timeout). */
  readonly done: Promise<ClientRun>;
  stop(): Promise<ClientRun>;
}

export function spawnClient(bin: string, args: readonly string[], timeoutMs = 15_000): RunningClient {
  const child: ChildProcess = spawn(bin, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const w of [...waiters]) w();
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<ClientRun>((resolve, reject) => {
    child.on('error', (err) => (clearTimeout(kill), reject(err)));
    child.on('close', (code) => {
      clearTimeout(kill);
      for (const w of [...waiters]) w();
      resolve({ code, stdout, stderr });
    });
  });
  const lines = () => stdout.split('\n').filter((l) => l.length > 0);
  return {
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    done,
    lines(n, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (lines().length >= n) return finish(() => resolve(lines()));
          if (child.exitCode !== null || child.signalCode !== null) finish(() => reject(new Error(`${bin} exited (${child.exitCode ?? child.signalCode}) with ${lines().length} of ${n} lines; stderr: ${stderr}`)));
        };
        const t = setTimeout(() => finish(() => reject(new Error(`${bin}: ${lines().length} of ${n} lines after ${ms} ms; stderr: ${stderr}`))), ms);
        const finish = (f: () => void) => {
          clearTimeout(t);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      });
    },
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return done;
    },
  };
}

/** Runs a client to its end (mosquitto_pub, or mosquitto_sub with -C/-W). */
export function runClient(bin: string, args: readonly string[], timeoutMs = 15_000): Promise<ClientRun> {
  return spawnClient(bin, args, timeoutMs).done;
}

/** A free TCP port on 127.0.0.1 (for a program that cannot be told to pick one itself). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface MosquittoHandle {
  port: number;
  /** What the broker logged (stderr and stdout). */
  readonly log: string;
  stop(): Promise<void>;
}

/** Starts `mosquitto -c conf`, whose listener is 127.0.0.1:`port`, and waits until the port accepts. */
export async function startMosquitto(conf: string, port: number, timeoutMs = 10_000): Promise<MosquittoHandle> {
  const child = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited (${child.exitCode}): ${log}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    get log() {
      return log;
    },
    stop,
  };
}
