/**
 * The Firmata boards of one agent: each opened once, however many devices it carries, and closed
 * once with every device on it driven safe first.
 *
 * A device sets itself up inside the board's "ready" event (`use`), so outputs reach their safe
 * level before anything else happens on the board: a relay opened before the board is ready is
 * released in the same tick the board reports ready, ahead of the other devices' setups.
 */
import { createRequire } from 'node:module';
import { EdgeError } from '../../errors.js';
import type { DriverEnv } from '../env.js';
import type { J5, J5Board, J5Io } from './j5-types.js';
import type { FirmataBoardConfig, FirmataBoardsConfig } from './schemas.js';

/** What a device's setup gets: the johnny-five module, the ready board, and where to register its close. */
export interface ReadyBoard {
  readonly name: string;
  readonly port: string;
  readonly five: J5;
  readonly board: J5Board;
  readonly io: J5Io;
  /** Registers what drives this device safe when the boards close (run last-registered first). */
  onClose(fn: () => void): void;
}

export interface FirmataBoardsOptions {
  /** Tests: the IO plugin for a board (a MockFirmata) instead of opening its serial port. */
  io?: (board: string, cfg: FirmataBoardConfig) => unknown;
  /** Tests: how johnny-five is loaded. */
  load?: () => Promise<J5>;
}

export interface UseOptions {
  /** Set up before the other devices in the ready event (outputs: their safe level first). */
  first?: boolean;
  /** The device, for the error when two devices claim one pin. */
  device?: string;
  /** The pins the device takes; a pin claimed twice is refused (BAD_CONFIG). */
  pins?: readonly (number | string)[];
}

interface Pending {
  setup: (b: ReadyBoard) => unknown;
  first: boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

interface Entry {
  state: 'opening' | 'ready' | 'failed' | 'closed';
  error?: Error;
  pending: Pending[];
  board?: J5Board;
  ready?: ReadyBoard;
  closers: (() => void)[];
  timer?: ReturnType<typeof setTimeout>;
}

/** Imports johnny-five (`specifier` lets a test name a package that is not there). */
export async function loadJohnnyFive(specifier: string = 'johnny-five'): Promise<J5> {
  try {
    const mod = (await import(specifier)) as { default?: J5 } & J5;
    return mod.default ?? mod;
  } catch (err) {
    throw new EdgeError('DRIVER_UNAVAILABLE', 'johnny-five cannot be loaded: install it with `npm install johnny-five` (an optional dependency of @keymesh/edge-agent), or pick another driver for this device', { cause: String(err) }, { cause: err });
  }
}

export class FirmataBoards {
  readonly #boards = new Map<string, Entry>();
  /** "board:pin" → the device given it. */
  readonly #pins = new Map<string, string>();
  #five: Promise<J5> | undefined;
  #closed = false;

  constructor(
    private readonly config: FirmataBoardsConfig,
    private readonly env: DriverEnv,
    private readonly opts: FirmataBoardsOptions = {},
  ) {}

  /** The configured board names. */
  get names(): string[] {
    return Object.keys(this.config);
  }

  /**
   * Runs `setup` on `board` once it is ready (synchronously inside its "ready" event, or at once
   * if it already is) and resolves with its result. `first` setups (outputs) run before the others.
   * Opens the board on first use.
   */
  use<T>(board: string, setup: (b: ReadyBoard) => T, opts: UseOptions = {}): Promise<T> {
    const first = opts.first ?? false;
    if (this.#closed) return Promise.reject(new EdgeError('DEVICE_FAILED', `the Firmata boards are closed: board "${board}" cannot be used`));
    const cfg = this.config[board];
    if (!cfg) {
      const known = this.names.length ? this.names.map((n) => `"${n}"`).join(', ') : 'none';
      return Promise.reject(new EdgeError('BAD_CONFIG', `board "${board}" is not declared under boards: (declared: ${known}); add boards: { ${board}: { port: /dev/ttyACM0 } } or fix the device's board:`));
    }
    for (const pin of opts.pins ?? []) {
      const key = `${board}:${pin}`;
      const holder = this.#pins.get(key);
      if (holder !== undefined && holder !== opts.device) {
        return Promise.reject(new EdgeError('BAD_CONFIG', `pin ${pin} of board "${board}" is given to both ${holder} and ${opts.device ?? 'another device'}: give each device its own pin`, { board, pin: String(pin) }));
      }
    }
    for (const pin of opts.pins ?? []) this.#pins.set(`${board}:${pin}`, opts.device ?? '?');
    let e = this.#boards.get(board);
    if (!e) {
      e = { state: 'opening', pending: [], closers: [] };
      this.#boards.set(board, e);
      void this.#open(board, cfg, e);
    }
    const entry = e;
    if (entry.state === 'failed') return Promise.reject(entry.error);
    if (entry.state === 'ready' && entry.ready) {
      try {
        return Promise.resolve(setup(entry.ready));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<T>((resolve, reject) => {
      entry.pending.push({ setup, first, resolve: resolve as (v: unknown) => void, reject });
    });
  }

  async #open(name: string, cfg: FirmataBoardConfig, e: Entry): Promise<void> {
    let five: J5;
    try {
      five = await (this.#five ??= (this.opts.load ?? (() => loadJohnnyFive()))());
    } catch (err) {
      return this.#fail(e, err as Error);
    }
    if (e.state !== 'opening') return;
    const where = `Firmata board "${name}" on ${cfg.port}`;
    const common = { id: name, repl: false, debug: false, sigint: false, timeout: cfg.timeoutMs };
    let board: J5Board;
    try {
      board = new five.Board({ ...common, io: this.opts.io ? this.opts.io(name, cfg) : await firmataOverSerialport(cfg.port) });
    } catch (err) {
      return this.#fail(e, new EdgeError('DEVICE_FAILED', `${where} cannot be opened: ${messageOf(err)}; check the port and that your user is in the dialout group`, { board: name, port: cfg.port }, { cause: err }));
    }
    e.board = board;
    // johnny-five reports problems as "error" events; one with no listener would crash the agent.
    const onError = (ev: unknown) => {
      if (e.state === 'opening') {
        this.#fail(e, new EdgeError('DEVICE_FAILED', `${where} failed: ${messageOf(ev)}; check the USB cable, the port (ls /dev/serial/by-id) and that StandardFirmata is flashed`, { board: name, port: cfg.port }));
      } else this.env.log('error', 'firmata board error', { board: name, port: cfg.port, error: messageOf(ev) });
    };
    board.on('error', onError);
    // johnny-five does not pass on an io's own errors (a port that cannot open): heard here, never thrown.
    if (!this.opts.io) (board.io as unknown as { on(ev: string, fn: (x: unknown) => void): void }).on('error', onError);
    for (const ev of ['close', 'disconnect']) {
      board.on(ev, () => {
        if (e.state === 'ready') this.env.log('error', 'firmata board went away: its devices are no longer driven', { board: name, port: cfg.port, event: ev });
      });
    }
    e.timer = setTimeout(() => {
      this.#fail(e, new EdgeError('DEVICE_FAILED', `${where} did not report ready within ${cfg.timeoutMs} ms: check the USB cable and the port (ls /dev/serial/by-id), that StandardFirmata is flashed on the board and that no other program has the port open`, { board: name, port: cfg.port }));
    }, cfg.timeoutMs);
    board.once('ready', () => this.#ready(name, cfg, five, board, e));
  }

  #ready(name: string, cfg: FirmataBoardConfig, five: J5, board: J5Board, e: Entry): void {
    if (e.state !== 'opening' || !board.io) return;
    clearTimeout(e.timer);
    e.state = 'ready';
    e.ready = { name, port: cfg.port, five, board, io: board.io, onClose: (fn) => void e.closers.push(fn) };
    this.env.log('info', 'firmata board ready', { board: name, port: cfg.port });
    const pending = [...e.pending.filter((p) => p.first), ...e.pending.filter((p) => !p.first)];
    e.pending = [];
    for (const p of pending) {
      try {
        p.resolve(p.setup(e.ready));
      } catch (err) {
        p.reject(err);
      }
    }
  }

  #fail(e: Entry, err: Error): void {
    if (e.state !== 'opening') return;
    e.state = 'failed';
    e.error = err;
    clearTimeout(e.timer);
    this.#release(e);
    for (const p of e.pending.splice(0)) p.reject(err);
  }

  /** Closes the serial port, johnny-five's connect timer and firmata.js's version timer. */
  #release(e: Entry): void {
    const b = e.board;
    if (!b) return;
    if (b.timer) clearTimeout(b.timer);
    if (b.io?.reportVersionTimeoutId) clearTimeout(b.io.reportVersionTimeoutId);
    try {
      b.io?.transport?.close?.(() => {});
    } catch {
      /* already closed */
    }
  }

  /** Drives every device safe (last opened first), then closes each board's port. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const [name, e] of this.#boards) {
      for (const fn of e.closers.splice(0).reverse()) {
        try {
          fn();
        } catch (err) {
          this.env.log('error', 'firmata device failed to close', { board: name, error: messageOf(err) });
        }
      }
      const closeErr = new EdgeError('DEVICE_FAILED', `the Firmata boards closed before board "${name}" was ready`);
      for (const p of e.pending.splice(0)) p.reject(closeErr);
      clearTimeout(e.timer);
      // The safe-state writes above are queued on the serial port: closing it at once could drop them.
      if (e.state === 'ready') await flushed(e.board?.io?.transport);
      this.#release(e);
      e.state = 'closed';
    }
  }
}

/** Resolves once the port has sent what was written to it (at most FLUSH_MS: a stuck port must not hold the exit). */
async function flushed(port: J5Io['transport']): Promise<void> {
  const p = port as (NonNullable<J5Io['transport']> & { writableLength?: number; once?(ev: string, fn: () => void): unknown; drain?(cb: () => void): unknown }) | null | undefined;
  if (!p || p.isOpen === false) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const sent = (async () => {
    if ((p.writableLength ?? 0) > 0 && p.once) await new Promise<void>((r) => void p.once!('drain', r));
    if (p.drain) await new Promise<void>((r) => void p.drain!(() => r()));
  })();
  await Promise.race([sent, new Promise<void>((r) => (timer = setTimeout(r, FLUSH_MS)))]);
  clearTimeout(timer);
}

const FLUSH_MS = 1_000;

function messageOf(x: unknown): string {
  if (x instanceof Error) return x.message;
  if (x && typeof x === 'object' && 'message' in x) return String((x as { message: unknown }).message);
  return String(x);
}

/**
 * Firmata over this package's own serialport (13, prebuilt binaries), not the serialport 8
 * johnny-five would load by itself: that one's native binding is built by an install script a
 * fresh install does not run (npm 11's allowScripts), and it would not open a port at all.
 * StandardFirmata talks at 57,600 baud.
 */
async function firmataOverSerialport(path: string): Promise<unknown> {
  const { SerialPort } = await import('serialport');
  const { Firmata } = createRequire(import.meta.url)('firmata-io') as { Firmata: new (port: unknown, options?: unknown) => unknown };
  return new Firmata(new SerialPort({ path, baudRate: 57_600 }));
}
