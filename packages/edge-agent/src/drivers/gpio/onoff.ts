/**
 * Outputs and inputs on Linux sysfs GPIO through onoff's `Gpio` (imported only when config picks
 * driver onoff). BCM numbers are offsets on the pin controller's chip, whose sysfs number starts
 * at its base: 0 on older kernels, 512 on Bookworm (DESIGN §9), so the driver reads
 * /sys/class/gpio/gpiochip*\/{label,base,ngpio} and adds the base. Trixie has no /sys/class/gpio
 * at all: that is DRIVER_UNAVAILABLE naming gpiod.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DigitalInput, Output } from '../types.js';
import type { DriverEnv } from '../env.js';
import { EdgeError } from '../../errors.js';
import { DebouncedLevel, Listeners } from './debounce.js';
import { DEFAULT_CHIP_LABELS } from './gpiod-tools.js';
import type { OnoffInputConfig, OnoffOutputConfig } from './schemas.js';

type Bit = 0 | 1;
/** The part of onoff's `Gpio` this driver uses (the test seam: a fake with this shape). */
export interface OnoffGpio {
  readSync(): Bit;
  writeSync(value: Bit): void;
  watch(cb: (err: Error | null | undefined, value: Bit) => void): void;
  unwatchAll(): void;
  unexport(): void;
}
export type OnoffGpioClass = new (
  gpio: number,
  direction: 'in' | 'out' | 'high' | 'low',
  edge?: 'none' | 'rising' | 'falling' | 'both',
  options?: { debounceTimeout?: number; activeLow?: boolean; reconfigureDirection?: boolean },
) => OnoffGpio;

export interface OnoffDeps {
  /** onoff's Gpio class; default: `(await import('onoff')).Gpio`. */
  Gpio?: OnoffGpioClass;
  /** Default /sys/class/gpio. */
  sysfsRoot?: string;
}

export const SYSFS_GPIO = '/sys/class/gpio';

/** The sysfs GPIO number of BCM `pin`: the chosen chip's base plus the pin. */
export function sysfsNumber(pin: number, chipLabel: string | undefined, root = SYSFS_GPIO): number {
  if (!existsSync(root))
    throw new EdgeError('DRIVER_UNAVAILABLE', `sysfs GPIO (${root}) is not available on this system (Raspberry Pi OS Trixie, the Pi 5's kernel): use driver gpiod`);
  const chips = readdirSync(root)
    .filter((d) => d.startsWith('gpiochip'))
    .map((d) => {
      const read = (f: string) => readFileSync(join(root, d, f), 'utf8').trim();
      try {
        return { dir: d, label: read('label'), base: Number(read('base')), ngpio: Number(read('ngpio')) };
      } catch {
        return undefined;
      }
    })
    .filter((c) => c !== undefined && Number.isInteger(c.base) && Number.isInteger(c.ngpio));
  const wanted = chipLabel ? [chipLabel] : DEFAULT_CHIP_LABELS;
  const chip = wanted.map((l) => chips.find((c) => c!.label === l)).find((c) => c !== undefined);
  if (!chip)
    throw new EdgeError('DRIVER_UNAVAILABLE', `no GPIO chip labelled ${wanted.join(' or ')} under ${root} (found: ${chips.map((c) => `${c!.dir} [${c!.label}]`).join(', ') || 'none'}): set chipLabel to one of those`);
  if (pin >= chip.ngpio) throw new EdgeError('BAD_CONFIG', `pin ${pin} is past the ${chip.ngpio} lines of ${chip.label}: check the BCM number`);
  return chip.base + pin;
}

export async function loadGpio(deps: OnoffDeps): Promise<OnoffGpioClass> {
  if (deps.Gpio) return deps.Gpio;
  try {
    return (await import('onoff')).Gpio as unknown as OnoffGpioClass;
  } catch (err) {
    throw new EdgeError('DRIVER_UNAVAILABLE', `the onoff library did not load (${(err as Error).message}): run npm install in the agent's folder (onoff needs its native epoll build), or use driver gpiod`);
  }
}

export class OnoffOutput implements Output {
  #value = false;
  #closed = false;

  private constructor(
    readonly name: string,
    private readonly gpio: OnoffGpio,
    private readonly env: DriverEnv,
  ) {}

  static async open(name: string, cfg: OnoffOutputConfig, env: DriverEnv, deps: OnoffDeps = {}): Promise<OnoffOutput> {
    const n = sysfsNumber(cfg.pin, cfg.chipLabel, deps.sysfsRoot);
    const Gpio = await loadGpio(deps);
    // 'high'/'low' make the line an output at that raw level in one step (the kernel's
    // direction_store), so it is never driven to anything but off. Off is raw high when active-low.
    return new OnoffOutput(name, new Gpio(n, cfg.activeLow ? 'high' : 'low', undefined, { activeLow: cfg.activeLow }), env);
  }

  get value(): boolean {
    return this.#value;
  }

  write(on: boolean): void {
    if (this.#closed) return;
    this.#value = on;
    try {
      this.gpio.writeSync(on ? 1 : 0); // logical: the kernel applies active_low
    } catch (err) {
      this.env.log('error', `${this.name}: writing its GPIO failed: ${(err as Error).message}`, { device: this.name });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.write(false);
    this.#closed = true;
    try {
      this.gpio.unexport(); // released: the pin controller makes it an input, its pull holds it off
    } catch (err) {
      this.env.log('warn', `${this.name}: unexporting its GPIO failed: ${(err as Error).message}`, { device: this.name });
    }
  }
}

export class OnoffInput implements DigitalInput {
  readonly #listeners: Listeners<[active: boolean, atMs: number]>;
  readonly #level: DebouncedLevel;
  #closed = false;

  private constructor(
    readonly name: string,
    private readonly gpio: OnoffGpio,
    env: DriverEnv,
  ) {
    this.#listeners = new Listeners((err) => env.log('error', `a listener of ${name} threw`, { device: name, error: String(err) }));
    // onoff debounces (debounceTimeout) and then reads the level; this only drops repeats.
    this.#level = new DebouncedLevel(gpio.readSync() === 1, 0, (active, atMs) => this.#listeners.emit(active, atMs));
    gpio.watch((err, value) => {
      if (err) return env.log('error', `${name}: watching its GPIO failed: ${err.message}`, { device: name });
      this.#level.edge(value === 1, env.now());
    });
  }

  static async open(name: string, cfg: OnoffInputConfig, env: DriverEnv, deps: OnoffDeps = {}): Promise<OnoffInput> {
    const n = sysfsNumber(cfg.pin, cfg.chipLabel, deps.sysfsRoot);
    const Gpio = await loadGpio(deps);
    return new OnoffInput(name, new Gpio(n, 'in', 'both', { activeLow: cfg.activeLow, debounceTimeout: cfg.debounceMs }), env);
  }

  read(): boolean {
    return this.#level.level;
  }

  watch(listener: (active: boolean, atMs: number) => void): () => void {
    return this.#listeners.add(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#level.close();
    this.#listeners.clear();
    try {
      this.gpio.unwatchAll();
      this.gpio.unexport();
    } catch {
      /* already gone: nothing left to release */
    }
  }
}
