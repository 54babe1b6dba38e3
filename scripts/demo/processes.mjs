// The demo's child processes: the coordinator (`keymesh serve`) and one `keymesh-edge run` per
// node. Each runs in its own process group, so a Ctrl-C at the terminal reaches only the demo,
// which then stops them in order (agents first, their outputs driven safe, then the
// coordinator). Their logs (JSON lines) go to files, not over the prompt.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** `preferred` when nothing listens on it, else 0 (the child then takes any free port and says which). */
export function portOr0(preferred) {
  if (!preferred) return Promise.resolve(0);
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(0));
    s.listen(preferred, '127.0.0.1', () => s.close(() => resolve(preferred)));
  });
}

/** Whether a JSON log line since `from` (byte offset) has `"ev":"<ev>"`: what the child itself said it did. */
export function logSays(file, ev, from = 0) {
  try {
    return readFileSync(file).subarray(from).toString('utf8').includes(`"ev":"${ev}"`);
  } catch {
    return false;
  }
}

/** Last lines of a log file, for a report when a child fails. */
export function tail(file, lines = 8) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).map((l) => '    ' + l.slice(0, 300)).join('\n');
  } catch {
    return '    (no log)';
  }
}

export class Child {
  constructor(name, argv, logFile, root) {
    this.name = name;
    this.logFile = logFile;
    const fd = openSync(logFile, 'a');
    this.logStart = fstatSync(fd).size; // this run's lines start here (the file is kept across runs)
    this.proc = spawn(process.execPath, argv, { cwd: root, stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    this.exitCode = undefined;
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? `signal ${signal}` : null);
        resolve(this.exitCode);
      });
      this.proc.once('error', (err) => {
        this.exitCode = `spawn failed: ${err.message}`;
        resolve(this.exitCode);
      });
    });
  }

  get pid() {
    return this.proc.pid;
  }

  get running() {
    return this.exitCode === undefined;
  }

  /** SIGTERM, wait up to `ms`, then SIGKILL (a sim agent has no real relay to leave open). */
  async stop(ms = 15_000) {
    if (!this.running) return { code: this.exitCode, killed: false };
    this.proc.kill('SIGTERM');
    const t = sleep(ms).then(() => 'timeout');
    if ((await Promise.race([this.exited, t])) === 'timeout') {
      this.proc.kill('SIGKILL');
      await this.exited;
      return { code: this.exitCode, killed: true };
    }
    return { code: this.exitCode, killed: false };
  }
}

/**
 * Polls `check` every 200 ms until it returns a value (not undefined), the child exits, or
 * `ms` pass; throws with the child's log tail in the last two cases.
 */
export async function waitFor(child, what, ms, check) {
  const until = Date.now() + ms;
  for (;;) {
    if (!child.running) throw new Error(`${child.name} exited (${child.exitCode}) before ${what}. Its log (${child.logFile}):\n${tail(child.logFile)}`);
    let v;
    try {
      v = await check();
    } catch {
      v = undefined;
    }
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`${child.name}: no ${what} within ${Math.round(ms / 1000)} s. Its log (${child.logFile}):\n${tail(child.logFile)}`);
    await sleep(200);
  }
}

/** A JSON file written by a running child naming its own pid (serve.json, agent.json), else undefined. */
export function recordOf(file, pid) {
  if (!existsSync(file)) return undefined;
  const r = JSON.parse(readFileSync(file, 'utf8'));
  return r && r.pid === pid ? r : undefined;
}

export async function getJson(url, ms = 3000) {
  const res = await fetch(url, { signal: AbortSignal.timeout(ms) });
  if (!res.ok) throw new Error(`HTTP ${res.status} from ${url}`);
  return res.json();
}

/** A process a run before this one left running on the folder (its record names a live pid). */
export function leftRunning(file) {
  if (!existsSync(file)) return null;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8'));
    process.kill(r.pid, 0);
    return r.pid;
  } catch (err) {
    return err?.code === 'EPERM' ? -1 : null;
  }
}

export const serveRecordPath = (siteDir) => join(siteDir, 'serve.json');
export const agentRecordPath = (edgeDir) => join(edgeDir, 'agent.json');
