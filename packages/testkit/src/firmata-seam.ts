/**
 * The lowest seam of the johnny-five drivers: what a Firmata board (a MockFirmata from the
 * `mock-firmata` package, handed to johnny-five as its `io`) was told. FirmataSeam records every
 * pin write, pin mode and I2C write, and drives input pins as the board would report them; the
 * Hd44780 model decodes what an LCD controller was sent (parallel pins or a PCF8574 backpack)
 * into the characters its glass would show. Structural types: testkit never imports the edge
 * agent or mock-firmata.
 */

/** The part of a Firmata IO plugin the seam wraps. */
export interface FirmataLikeIo {
  digitalWrite(pin: number, value: number): unknown;
  pinMode(pin: number, mode: number): unknown;
  digitalRead(pin: number, callback: (value: number) => void): unknown;
  i2cWrite(...args: unknown[]): unknown;
  reportDigitalPin?(pin: number, value: number): unknown;
  analogWrite?(pin: number, value: number): unknown;
  pwmWrite?(pin: number, value: number): unknown;
  emit(event: string, ...args: unknown[]): boolean;
}

export type SeamCall =
  | { op: 'digitalWrite' | 'analogWrite' | 'pwmWrite'; pin: number; value: number }
  | { op: 'pinMode'; pin: number; mode: number }
  | { op: 'i2cWrite'; address: number; bytes: number[] };

export class FirmataSeam {
  readonly calls: SeamCall[] = [];
  readonly #readers = new Map<number, ((value: number) => void)[]>();
  /** Pins the board reports (firmata.js's digitalRead turns reporting on; reportDigitalPin(pin, 0) off). */
  readonly #reporting = new Set<number>();

  constructor(readonly io: FirmataLikeIo) {
    const rec = this.calls;
    const wrap = <K extends keyof FirmataLikeIo>(k: K, record: (...args: any[]) => void): void => {
      const orig = io[k] as ((...args: unknown[]) => unknown) | undefined;
      (io as unknown as Record<string, unknown>)[k] = function (this: unknown, ...args: unknown[]) {
        record(...args);
        return orig?.apply(this, args);
      };
    };
    for (const op of ['digitalWrite', 'analogWrite', 'pwmWrite'] as const) {
      wrap(op, (pin: number, value: number) => rec.push({ op, pin: Number(pin), value: Number(value) }));
    }
    wrap('pinMode', (pin: number, mode: number) => rec.push({ op: 'pinMode', pin: Number(pin), mode }));
    wrap('digitalRead', (pin: number, cb: (value: number) => void) => {
      const list = this.#readers.get(Number(pin)) ?? [];
      list.push(cb);
      this.#readers.set(Number(pin), list);
      this.#reporting.add(Number(pin));
    });
    wrap('reportDigitalPin', (pin: number, value: number) => void (value ? this.#reporting.add(Number(pin)) : this.#reporting.delete(Number(pin))));
    wrap('i2cWrite', (address: number, a: unknown, b?: unknown) => {
      // i2cWrite(address, bytes), (address, byte) or (address, register, bytes)
      const bytes = b !== undefined ? [Number(a), ...toBytes(b)] : toBytes(a);
      rec.push({ op: 'i2cWrite', address, bytes });
    });
  }

  /** The board says it is connected and ready (what firmata.js says once StandardFirmata answers). */
  ready(): void {
    this.io.emit('connect');
    this.io.emit('ready');
  }

  /** The values written to `pin`, in order (digital 0/1, or PWM duty). */
  writes(pin: number): number[] {
    return this.calls.flatMap((c) => (c.op !== 'pinMode' && c.op !== 'i2cWrite' && c.pin === pin ? [c.value] : []));
  }

  /** Every electrical level `pin` was driven to (true = high), in order. */
  levels(pin: number): boolean[] {
    return this.writes(pin).map((v) => v > 0);
  }

  /** The level `pin` was last driven to; undefined if never written. */
  level(pin: number): boolean | undefined {
    return this.levels(pin).at(-1);
  }

  /** The last mode set on `pin`. */
  mode(pin: number): number | undefined {
    return this.calls.filter((c): c is Extract<SeamCall, { op: 'pinMode' }> => c.op === 'pinMode' && c.pin === pin).at(-1)?.mode;
  }

  /** The board reports `pin` at `level`, as StandardFirmata does for a digital pin it reports (others stay unheard). */
  drive(pin: number, level: boolean): void {
    if (!this.#reporting.has(pin)) return;
    for (const cb of this.#readers.get(pin) ?? []) cb(level ? 1 : 0);
  }

  /** Whether the board reports `pin` now. */
  reporting(pin: number): boolean {
    return this.#reporting.has(pin);
  }

  /** Every byte written to the I2C device at `address`, in order. */
  i2cBytes(address: number): number[] {
    return this.calls.flatMap((c) => (c.op === 'i2cWrite' && c.address === address ? c.bytes : []));
  }
}

/** A MockFirmata-like constructor (`require('mock-firmata').Firmata`). */
export type MockIoClass = new () => FirmataLikeIo;

/**
 * Mock boards by name, for a driver's `io` option: each board's io is a fresh mock wrapped in a
 * seam, reporting ready on the next tick (or when told, with `autoReady: false`).
 */
export class MockBoards {
  readonly seams = new Map<string, FirmataSeam>();
  opened = 0;

  constructor(
    private readonly Mock: MockIoClass,
    private readonly opts: { autoReady?: boolean } = {},
  ) {}

  /** The `io` factory to hand the driver. */
  readonly io = (board: string): FirmataLikeIo => {
    this.opened++;
    const seam = new FirmataSeam(new this.Mock());
    this.seams.set(board, seam);
    if (this.opts.autoReady !== false) setImmediate(() => seam.ready());
    return seam.io;
  };

  seam(board: string): FirmataSeam {
    const s = this.seams.get(board);
    if (!s) throw new Error(`board ${board} was never opened`);
    return s;
  }
}

function toBytes(x: unknown): number[] {
  if (Array.isArray(x)) return x.map(Number);
  if (x instanceof Uint8Array) return [...x];
  return [Number(x)];
}

/**
 * An HD44780 character LCD controller, fed the nibbles its EN line latched. It starts as after
 * power-on (8-bit interface, display off) and follows the instruction set far enough to know
 * what is on the glass: clear, home, entry mode, display on/off, function set, DDRAM/CGRAM address.
 */
export class Hd44780 {
  readonly #ddram = new Array<number>(128).fill(0x20);
  #ac = 0;
  #eightBit = true;
  #high: number | null = null;
  #displayOn = false;
  #cgram = false;
  #increment = true;

  /** One EN strobe with D4-D7 = `nibble` and RS = `rs`. */
  nibble(rs: boolean, nibble: number): void {
    if (this.#eightBit) return this.#byte(rs, (nibble & 0x0f) << 4); // D0-D3 unconnected: read as 0
    if (this.#high === null) {
      this.#high = nibble & 0x0f;
      return;
    }
    const b = (this.#high << 4) | (nibble & 0x0f);
    this.#high = null;
    this.#byte(rs, b);
  }

  #byte(rs: boolean, b: number): void {
    if (rs) {
      if (this.#cgram) return;
      this.#ddram[this.#ac] = b;
      this.#step();
      return;
    }
    if (b & 0x80) {
      this.#cgram = false;
      this.#ac = b & 0x7f;
    } else if (b & 0x40) this.#cgram = true;
    else if (b & 0x20) this.#eightBit = (b & 0x10) !== 0;
    else if (b & 0x10) return; // cursor/display shift: not used by the drivers
    else if (b & 0x08) this.#displayOn = (b & 0x04) !== 0;
    else if (b & 0x04) this.#increment = (b & 0x02) !== 0;
    else if (b & 0x02) {
      this.#ac = 0;
      this.#cgram = false;
    } else if (b & 0x01) {
      this.#ddram.fill(0x20);
      this.#ac = 0;
      this.#cgram = false;
      this.#increment = true;
    }
  }

  #step(): void {
    // Two-line addressing: 0x00-0x27 then 0x40-0x67, wrapping between them.
    if (this.#increment) this.#ac = this.#ac === 0x27 ? 0x40 : this.#ac === 0x67 ? 0x00 : (this.#ac + 1) & 0x7f;
    else this.#ac = this.#ac === 0x40 ? 0x27 : this.#ac === 0x00 ? 0x67 : (this.#ac - 1) & 0x7f;
  }

  get displayOn(): boolean {
    return this.#displayOn;
  }

  /** What the glass shows: `rows` lines of `columns` characters (spaces while the display is off). */
  lines(rows: number, columns: number): string[] {
    const offsets = [0x00, 0x40, columns, 0x40 + columns];
    return Array.from({ length: rows }, (_, r) =>
      this.#displayOn ? String.fromCharCode(...this.#ddram.slice(offsets[r]!, offsets[r]! + columns)) : ' '.repeat(columns),
    );
  }
}

/** Decodes a PCF8574 backpack's port writes (P0 RS, P2 EN, P4-P7 D4-D7) into the LCD's strobes. */
export function pcf8574Lcd(bytes: readonly number[]): Hd44780 {
  const lcd = new Hd44780();
  let prev = 0;
  for (const b of bytes) {
    if (prev & 0x04 && !(b & 0x04)) lcd.nibble((prev & 0x01) !== 0, prev >> 4);
    prev = b;
  }
  return lcd;
}

/** Decodes digital writes to a parallel LCD's pins [RS, EN, D4, D5, D6, D7] into its strobes. */
export function parallelLcd(seam: FirmataSeam, pins: readonly [number, number, number, number, number, number]): Hd44780 {
  const [rs, en, ...data] = pins;
  const level = new Map<number, number>();
  const lcd = new Hd44780();
  for (const c of seam.calls) {
    if (c.op !== 'digitalWrite' || !pins.includes(c.pin)) continue;
    if (c.pin === en && level.get(en) && !c.value) {
      lcd.nibble(Boolean(level.get(rs)), data.reduce((n, p, i) => n | ((level.get(p) ? 1 : 0) << i), 0));
    }
    level.set(c.pin, c.value);
  }
  return lcd;
}
