/**
 * A fake of onoff's `Gpio` class over a fake sysfs GPIO world, for tests of the onoff driver
 * (onoff itself only works on a real /sys/class/gpio). It keeps onoff's API shape and the
 * kernel's behaviour the driver relies on: `active_low` is set before the direction; direction
 * 'high'/'low' sets the *raw* level as it turns the line to an output (gpiolib-sysfs
 * direction_store, so an active-low relay opened 'high' starts off); values read and written
 * are logical; a watch fires after an interrupt on an enabled edge, reads the level then, and
 * (like onoff) drops the call when that level is not on an enabled edge; debounceTimeout is a
 * trailing debounce. An unexported line rests at its pull. Also makes the sysfs tree of chip
 * folders (label, base, ngpio) the driver reads to map BCM numbers.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../temp-files.js';

type Direction = 'in' | 'out' | 'high' | 'low';
type Edge = 'none' | 'rising' | 'falling' | 'both';
type Bit = 0 | 1;
type Callback = (err: Error | null | undefined, value: Bit) => void;

interface Line {
  exported: boolean;
  output: boolean;
  activeLow: boolean;
  /** Raw electrical level. */
  level: boolean;
  pull: boolean;
  levels: boolean[];
  owner?: Owner;
}

/** What the world sees of the Gpio that exported a line (onoff's own field names). */
interface Owner {
  /** The edge file's setting: which edges interrupt (the kernel's, apart from onoff's flags). */
  edge(): Edge;
  _interrupt(): void;
}

export interface FakeOnoffWorld {
  /** The class to hand the driver in place of onoff's `Gpio`. */
  Gpio: new (gpio: number, direction: Direction, edge?: Edge | object, options?: object) => FakeGpio;
  /** The raw electrical level of a sysfs GPIO number. */
  level(gpio: number): boolean;
  /** Every raw level an output was driven to since it was first exported. */
  levels(gpio: number): boolean[];
  setPull(gpio: number, level: boolean): void;
  /** Drives an input's raw level; an interrupt when it changes. */
  drive(gpio: number, level: boolean): void;
  /** Drives `level` and straight back (two interrupts at once). */
  glitch(gpio: number, level: boolean): void;
  exported(gpio: number): boolean;
}

export interface FakeGpio {
  readSync(): Bit;
  writeSync(value: Bit): void;
  read(): Promise<Bit>;
  write(value: Bit): Promise<void>;
  watch(cb: Callback): void;
  unwatch(cb?: Callback): void;
  unwatchAll(): void;
  unexport(): void;
  direction(): 'in' | 'out';
  edge(): Edge;
  activeLow(): boolean;
}

export function fakeOnoff(): FakeOnoffWorld {
  const lines = new Map<number, Line>();
  const line = (n: number): Line => {
    let l = lines.get(n);
    if (!l) lines.set(n, (l = { exported: false, output: false, activeLow: false, level: false, pull: false, levels: [] }));
    return l;
  };
  const interrupt = (n: number) => lines.get(n)?.owner?._interrupt();

  class Gpio implements FakeGpio {
    _risingEnabled = false;
    _fallingEnabled = false;
    readonly #n: number;
    #edge: Edge = 'none';
    #listeners: Callback[] = [];
    #debounceMs: number;
    #timer: ReturnType<typeof setTimeout> | undefined;

    constructor(gpio: number, direction: Direction, edge?: Edge | object, options?: object) {
      if (typeof edge === 'object') [options, edge] = [edge, undefined];
      const o = (options ?? {}) as { activeLow?: boolean; debounceTimeout?: number };
      this.#n = gpio;
      const l = line(gpio);
      if (l.owner) throw Object.assign(new Error(`EBUSY: gpio${gpio} is in use`), { code: 'EBUSY' });
      l.exported = true;
      l.owner = this;
      if (typeof o.activeLow === 'boolean') l.activeLow = o.activeLow;
      if (direction === 'in') l.output = false;
      else {
        l.output = true;
        l.level = direction === 'high'; // raw, whatever active_low says
        l.levels.push(l.level);
      }
      if (edge && direction === 'in') this.#setEdge(edge);
      this.#debounceMs = o.debounceTimeout ?? 0;
    }

    #setEdge(e: Edge): void {
      this.#edge = e;
      this._risingEnabled = e === 'both' || e === 'rising';
      this._fallingEnabled = e === 'both' || e === 'falling';
    }

    #line(): Line {
      const l = line(this.#n);
      if (l.owner !== this) throw Object.assign(new Error(`EBADF: gpio${this.#n} was unexported`), { code: 'EBADF' });
      return l;
    }

    readSync(): Bit {
      const l = this.#line();
      return l.level !== l.activeLow ? 1 : 0;
    }

    writeSync(value: Bit): void {
      const l = this.#line();
      const raw = (value === 1) !== l.activeLow;
      if (l.output && raw !== l.level) l.levels.push(raw);
      if (l.output) l.level = raw;
    }

    async read(): Promise<Bit> {
      return this.readSync();
    }

    async write(value: Bit): Promise<void> {
      this.writeSync(value);
    }

    watch(cb: Callback): void {
      this.#listeners.push(cb);
    }

    unwatch(cb?: Callback): void {
      this.#listeners = cb ? this.#listeners.filter((l) => l !== cb) : [];
    }

    unwatchAll(): void {
      this.unwatch();
    }

    unexport(): void {
      const l = this.#line();
      this.unwatchAll();
      if (this.#timer) clearTimeout(this.#timer);
      l.exported = false;
      l.owner = undefined;
      l.output = false;
      l.level = l.pull;
    }

    direction(): 'in' | 'out' {
      return this.#line().output ? 'out' : 'in';
    }

    edge(): Edge {
      return this.#edge;
    }

    activeLow(): boolean {
      return this.#line().activeLow;
    }

    /** What onoff's epoll handler does on a wake-up (debounced: once the line is quiet). */
    _interrupt(): void {
      if (this.#edge === 'none' || this.#listeners.length === 0) return;
      const handle = () => {
        if (line(this.#n).owner !== this) return;
        const value = this.readSync();
        if ((value === 0 && this._fallingEnabled) || (value === 1 && this._risingEnabled)) for (const cb of this.#listeners.slice()) cb(null, value);
      };
      if (this.#debounceMs <= 0) return handle();
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = setTimeout(handle, this.#debounceMs);
    }
  }

  const edgeFires = (l: Line, from: boolean, to: boolean): boolean => {
    const o = l.owner;
    if (!o || from === to) return false;
    const rising = to !== l.activeLow; // the edge setting follows active_low (sysfs)
    const e = o.edge();
    return e === 'both' || e === (rising ? 'rising' : 'falling');
  };

  return {
    Gpio,
    level: (n) => (lines.get(n)?.exported ? line(n).level : line(n).pull),
    levels: (n) => [...line(n).levels],
    setPull: (n, level) => {
      const l = line(n);
      l.pull = level;
      if (!l.exported) l.level = level;
    },
    drive: (n, level) => {
      const l = line(n);
      if (l.output) throw new Error(`gpio${n} is an output: a test cannot drive it`);
      const from = l.level;
      l.level = level;
      if (edgeFires(l, from, level)) interrupt(n);
    },
    glitch: (n, level) => {
      const l = line(n);
      const from = l.level;
      l.level = level;
      const first = edgeFires(l, from, level);
      l.level = from;
      const second = edgeFires(l, level, from);
      // Two interrupts in a row, read after both (the level is back where it was).
      if (first) interrupt(n);
      if (second) interrupt(n);
    },
    exported: (n) => line(n).exported,
  };
}

export interface FakeSysfsChip {
  /** The folder name: gpiochip<base>. */
  base: number;
  label: string;
  ngpio: number;
}

/** Bookworm on a Pi 4: the header's chip starts at 512. */
export const BOOKWORM_PI4_SYSFS: readonly FakeSysfsChip[] = [
  { base: 512, label: 'pinctrl-bcm2711', ngpio: 58 },
  { base: 570, label: 'raspberrypi-exp-gpio', ngpio: 8 },
];

/** A fake /sys/class/gpio with these chips (export/unexport files present, as the driver checks). */
export function fakeSysfsTree(chips: readonly FakeSysfsChip[]): { root: string; remove: () => void } {
  const s = scratchDir('fake-sysfs-gpio');
  const root = join(s.dir, 'gpio');
  mkdirSync(root);
  writeFileSync(join(root, 'export'), '');
  writeFileSync(join(root, 'unexport'), '');
  for (const c of chips) {
    const d = join(root, `gpiochip${c.base}`);
    mkdirSync(d);
    writeFileSync(join(d, 'label'), `${c.label}\n`);
    writeFileSync(join(d, 'base'), `${c.base}\n`);
    writeFileSync(join(d, 'ngpio'), `${c.ngpio}\n`);
  }
  return { root, remove: s.remove };
}
