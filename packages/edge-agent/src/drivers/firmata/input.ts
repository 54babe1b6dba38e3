/**
 * A button, a reed switch or an e-stop on a Firmata board, as a `DigitalInput`: johnny-five's
 * Button (pull-up and invert mapped from the config), debounced once more here to `debounceMs`
 * (johnny-five's own debounce is a fixed 7 ms).
 */
import type { DriverEnv } from '../env.js';
import { DebouncedLevel, Listeners } from '../gpio/debounce.js';
import type { DigitalInput } from '../types.js';
import type { FirmataBoards, ReadyBoard } from './boards.js';
import type { FirmataInputConfig } from './schemas.js';

class FirmataInput implements DigitalInput {
  readonly #listeners: Listeners<[active: boolean, atMs: number]>;
  readonly #level: DebouncedLevel;
  #closed = false;

  constructor(
    readonly name: string,
    debounceMs: number,
    env: DriverEnv,
    private readonly stop: () => void,
  ) {
    this.#listeners = new Listeners((err) => env.log('error', 'input listener failed', { device: name, error: String(err) }));
    this.#level = new DebouncedLevel(false, debounceMs, (active, atMs) => this.#listeners.emit(active, atMs));
  }

  /** A change johnny-five reported (already polarity-applied). */
  edge(active: boolean, atMs: number): void {
    if (!this.#closed) this.#level.edge(active, atMs);
  }

  read(): boolean {
    return this.#level.level;
  }

  watch(listener: (active: boolean, atMs: number) => void): () => void {
    if (this.#closed) return () => {};
    return this.#listeners.add(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#level.close();
    this.#listeners.clear();
    this.stop();
  }
}

function setup(name: string, cfg: FirmataInputConfig, env: DriverEnv, b: ReadyBoard): FirmataInput {
  // johnny-five's Button gives no way to stop it: its hold timer runs while the button is down,
  // and its pin listener forever. The callback it hands the IO is kept so close() can tell it
  // the button is up (which stops the hold timer); then the pin's reports are turned off.
  let report: ((value: number) => void) | undefined;
  const io = b.io;
  const digitalRead = io.digitalRead;
  io.digitalRead = function (pin: number, cb: (value: number) => void) {
    report = cb;
    return digitalRead.call(this, pin, cb);
  };
  const invert = cfg.activeLow ?? cfg.pullup;
  let button;
  try {
    button = new b.five.Button({ board: b.board, pin: cfg.pin, pullup: cfg.pullup, invert });
  } finally {
    io.digitalRead = digitalRead;
  }
  const pin = button.pin;
  const input = new FirmataInput(name, cfg.debounceMs, env, () => {
    button.removeListener('down', down);
    button.removeListener('up', up);
    report?.(invert ? io.HIGH : io.LOW);
    io.reportDigitalPin?.(pin, 0);
    io.removeAllListeners?.(`digital-read-${pin}`);
  });
  const down = (): void => input.edge(true, env.now());
  const up = (): void => input.edge(false, env.now());
  button.on('down', down);
  button.on('up', up);
  b.onClose(() => void input.close());
  return input;
}

/** Opens a button or switch input; inactive until the board reports otherwise. */
export function openInput(name: string, cfg: FirmataInputConfig, env: DriverEnv, boards: FirmataBoards): Promise<DigitalInput> {
  return boards.use(cfg.board, (b) => setup(name, cfg, env, b), { device: name, pins: [cfg.pin] });
}
