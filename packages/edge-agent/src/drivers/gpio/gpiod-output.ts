/**
 * An output (relay, LED, buzzer) on the kernel's GPIO character device through `gpioset`.
 * The line is requested with its off value on the command line, so the first level it is driven
 * to is the safe one (no flicker). gpioset holds the line while it runs:
 *   v2 built with --interactive: one process for the output's life; each write is a `set` line
 *     on its stdin (`gpioset -c CHIP [-l] -C CONSUMER --banner -i OFFSET=0`);
 *   v2 without it (Debian's build) and v1.6 (`gpioset [-l] --mode=signal CHIP OFFSET=V`): a
 *     write ends the holding process and starts one with the new value. Between the two the line
 *     is released, and the Pi's pin controller makes a released line an input: the pull
 *     resistors hardware/ requires hold it at its off level (they hold it at boot too).
 * write() is synchronous from the caller's view: it records the value and hands it to the child
 * at once (a stdin write, or a signal); a line that fails is logged and retried, never thrown.
 * On close the process ends and the line is released: the pull resistors keep it off.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Output } from '../types.js';
import type { DriverEnv } from '../env.js';
import { EdgeError } from '../../errors.js';
import { readyWithin, trackChild, type GpiodTools } from './gpiod-tools.js';

export interface GpiodLine {
  chip: string;
  offset: number;
  activeLow: boolean;
  consumer: string;
}

/** After an unexpected exit, the holder is started again this long after (a crash loop stays slow). */
const RESPAWN_MS = 1_000;

export class GpiodOutput implements Output {
  #value = false;
  #closed = false;
  #child: ChildProcess | undefined;
  /** The value the running child holds (restart mode), or was last told (interactive). */
  #held = false;
  #stopping = false;
  #respawn: ReturnType<typeof setTimeout> | undefined;
  #exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly name: string,
    private readonly tools: GpiodTools,
    private readonly line: GpiodLine,
    private readonly env: DriverEnv,
  ) {}

  /** Opens the line at its off level; resolves once gpioset holds it (v2: its banner; v1.6: started). */
  static async open(name: string, tools: GpiodTools, line: GpiodLine, env: DriverEnv): Promise<GpiodOutput> {
    const o = new GpiodOutput(name, tools, line, env);
    try {
      await readyWithin(o.#start(false), `gpioset did not confirm it holds ${line.chip} ${line.offset}`, () => {});
    } catch (err) {
      o.#closed = true;
      o.#child?.kill('SIGKILL');
      throw err;
    }
    return o;
  }

  get value(): boolean {
    return this.#value;
  }

  write(on: boolean): void {
    if (this.#closed) return;
    this.#value = on;
    if (this.tools.interactive && this.#child && !this.#stopping) {
      if (this.#held !== on) this.#tell(`set ${this.line.offset}=${on ? 1 : 0}\n`);
      this.#held = on;
      return;
    }
    this.#sync();
  }

  async close(): Promise<void> {
    if (this.#closed) return this.#exited;
    this.#value = false;
    this.#closed = true;
    if (this.#respawn) clearTimeout(this.#respawn);
    const child = this.#child;
    if (child && !this.#stopping) {
      this.#stopping = true;
      // Interactive: drive it off before letting go; either way the pull keeps it off after.
      if (this.tools.interactive) this.#tell(`set ${this.line.offset}=0\nexit\n`);
      else child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await this.#exited;
      clearTimeout(t);
    }
    return this.#exited;
  }

  #args(value: boolean): string[] {
    const { chip, offset, activeLow, consumer } = this.line;
    const v = `${offset}=${value ? 1 : 0}`;
    if (this.tools.major === 2) return ['-c', chip, ...(activeLow ? ['-l'] : []), '-C', consumer, '--banner', ...(this.tools.interactive ? ['-i'] : []), v];
    return [...(activeLow ? ['-l'] : []), '--mode=signal', chip, v];
  }

  #tell(s: string): void {
    const stdin = this.#child?.stdin;
    if (stdin && !stdin.destroyed) stdin.write(s);
  }

  /** Restart mode: brings the holder to #value (ends it; its exit starts the next). */
  #sync(): void {
    if (this.#closed) return;
    if (!this.#child) {
      if (!this.#respawn) void this.#start(this.#value).catch(() => {});
      return;
    }
    if (this.#held !== this.#value && !this.#stopping) {
      this.#stopping = true;
      this.#child.kill('SIGTERM');
    }
  }

  #start(value: boolean): Promise<void> {
    const child = spawn('gpioset', this.#args(value), { env: this.tools.env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child = child;
    this.#held = value;
    this.#stopping = false;
    const untrack = trackChild(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.stdin!.on('error', () => {}); // a child gone mid-write: its exit is handled below
    let done!: () => void;
    this.#exited = new Promise((r) => (done = r));
    const ready = new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out = (out + d.toString()).slice(-200);
        if (out.includes('Setting line')) resolve();
      });
      child.once('spawn', () => this.tools.major === 1 && resolve());
      child.once('error', (err) =>
        reject((err as NodeJS.ErrnoException).code === 'ENOENT' ? new EdgeError('DRIVER_UNAVAILABLE', 'gpioset was not found: install the libgpiod tools (sudo apt install gpiod)') : err),
      );
      child.once('close', (code, signal) => reject(new EdgeError('DEVICE_FAILED', `gpioset for ${this.name} (${this.line.chip} ${this.line.offset}) stopped (${signal ?? `exit ${code}`}): ${stderr.trim() || 'no message'}`)));
    });
    child.once('close', (code, signal) => {
      untrack();
      const expected = this.#stopping;
      this.#child = undefined;
      this.#stopping = false;
      done();
      if (this.#closed) return;
      if (expected) return this.#sync();
      this.env.log('error', `gpioset for ${this.name} stopped (${signal ?? `exit ${code}`}); the line is released and held off by its pull resistor; starting it again`, {
        device: this.name,
        stderr: stderr.trim().slice(0, 500),
      });
      this.#respawn = setTimeout(() => {
        this.#respawn = undefined;
        this.#sync();
      }, RESPAWN_MS);
    });
    return ready;
  }
}
