/**
 * The libgpiod command-line tools as the gpiod driver finds them: which version (v1.6 and v2
 * differ in flags, argument order and output formats; told apart by `gpioset --version`),
 * whether this build of gpioset has `--interactive` (it needs libedit; Debian's build has not),
 * and which chip holds the header's lines, found by its label (`gpiodetect`; the Pi 5 moved them
 * to `pinctrl-rp1`). BCM numbers are line offsets on that chip.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { EdgeError } from '../../errors.js';

/** The labels of the chips whose offsets are BCM numbers: Pi 5, Pi 4, Pi 0-3. */
export const DEFAULT_CHIP_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'] as const;

export interface GpiodTools {
  major: 1 | 2;
  /** The version line, for `doctor`. */
  version: string;
  /** v2 gpioset built with --interactive: one process per output, values changed on its stdin. */
  interactive: boolean;
  /** The environment the tools run with (PATH decides which tools). */
  env: NodeJS.ProcessEnv;
}

/** Runs one tool to its end; its stdout. A missing tool is DRIVER_UNAVAILABLE with the fix. */
export function runTool(tool: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(tool, args, { env, timeout: 10_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        return reject(new EdgeError('DRIVER_UNAVAILABLE', `${tool} was not found: install the libgpiod tools (sudo apt install gpiod)`));
      reject(new EdgeError('DEVICE_FAILED', `${tool} ${args.join(' ')} failed: ${String(stderr).trim() || err.message}`));
    });
  });
}

const cache = new Map<string, Promise<GpiodTools>>();

/** The tools on `env`'s PATH (asked once per PATH). */
export function gpiodTools(env: NodeJS.ProcessEnv = process.env): Promise<GpiodTools> {
  const key = env.PATH ?? '';
  let t = cache.get(key);
  if (!t) {
    t = detect(env);
    cache.set(key, t);
    t.catch(() => cache.delete(key));
  }
  return t;
}

async function detect(env: NodeJS.ProcessEnv): Promise<GpiodTools> {
  const out = await runTool('gpioset', ['--version'], env);
  const version = out.split('\n')[0]?.trim() ?? '';
  // v1: "gpioset (libgpiod) v1.6.3"; v2: "gpioset v2.2.1 (libgpiod v2.2.1)".
  const m = /v(\d+)\.(\d+)/.exec(version);
  if (!m) throw new EdgeError('DRIVER_UNAVAILABLE', `cannot tell the libgpiod version from "${version}": install libgpiod 1.6 or 2 (sudo apt install gpiod)`);
  const major = Number(m[1]);
  if (major === 1 && Number(m[2]) < 5)
    throw new EdgeError('DRIVER_UNAVAILABLE', `libgpiod ${version} is too old (bias flags came in 1.5): upgrade gpiod, or use driver onoff where /sys/class/gpio exists`);
  if (major !== 1 && major !== 2) throw new EdgeError('DRIVER_UNAVAILABLE', `libgpiod ${version} is not supported (1.6 or 2 are)`);
  const interactive = major === 2 && (await runTool('gpioset', ['--help'], env)).includes('--interactive');
  return { major, version, interactive, env };
}

export interface GpioChip {
  name: string;
  label: string;
  lines: number;
}

/** Every chip gpiodetect lists: "gpiochip0 [pinctrl-bcm2711] (58 lines)" in v1.6 and v2 alike. */
export async function listChips(tools: GpiodTools): Promise<GpioChip[]> {
  const out = await runTool('gpiodetect', [], tools.env);
  const chips: GpioChip[] = [];
  for (const line of out.split('\n')) {
    const m = /^(\S+) \[(.*)\] \((\d+) lines\)$/.exec(line.trim());
    if (m) chips.push({ name: m[1]!, label: m[2]!, lines: Number(m[3]) });
  }
  return chips;
}

/** The chip with `label` (or the first of the Pi's labels found), checked to hold `offset`. */
export async function findChip(tools: GpiodTools, offset: number, label?: string): Promise<GpioChip> {
  const chips = await listChips(tools);
  const wanted = label ? [label] : DEFAULT_CHIP_LABELS;
  const chip = wanted.map((l) => chips.find((c) => c.label === l)).find((c) => c !== undefined);
  if (!chip)
    throw new EdgeError(
      'DRIVER_UNAVAILABLE',
      `no GPIO chip labelled ${wanted.join(' or ')} (found: ${chips.map((c) => `${c.name} [${c.label}]`).join(', ') || 'none'}): set chipLabel to one of those`,
    );
  if (offset >= chip.lines) throw new EdgeError('BAD_CONFIG', `pin ${offset} is past the ${chip.lines} lines of ${chip.name} [${chip.label}]: check the BCM number`);
  return chip;
}

/**
 * The tools this process started, killed when it exits (process.exit, an uncaught error) so no
 * gpioset goes on holding a relay on. A SIGKILLed agent cannot do this: under systemd the
 * unit's cgroup is killed with it (KillMode=control-group, the default; see hardware/).
 */
const children = new Set<ChildProcess>();
let exitHook = false;

export function trackChild(child: ChildProcess): () => void {
  children.add(child);
  child.once('close', () => children.delete(child));
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const c of children) c.kill('SIGKILL');
    });
  }
  return () => void children.delete(child);
}

/** How long a tool may take to confirm it holds its lines before the open fails. */
export const READY_MS = 10_000;

/** `p`, or DEVICE_FAILED saying `what` did not happen within READY_MS. */
export function readyWithin<T>(p: Promise<T>, what: string, onTimeout: () => void): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => {
      onTimeout();
      reject(new EdgeError('DEVICE_FAILED', `${what} within ${READY_MS / 1000} s: check the libgpiod tools (gpioset --version) and the line`));
    }, READY_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}
