/**
 * A relay or a LED on a Firmata board, as an `Output`: `true` is energised (the load powered,
 * the LED lit) whatever the wiring. A relay is johnny-five's Relay, whose `type` inverts the pin;
 * NC wiring and an active-low module each invert it once (both: they cancel). A LED is
 * johnny-five's Led; active-low is applied here, since Led inverts only on PWM pins.
 */
import type { DriverEnv } from '../env.js';
import type { Output } from '../types.js';
import type { FirmataBoards, ReadyBoard } from './boards.js';
import type { J5Led, J5Relay } from './j5-types.js';
import type { FirmataOutputConfig } from './schemas.js';

/** Pin level inverted from "energised = HIGH"? */
export function outputInverted(cfg: Pick<FirmataOutputConfig, 'type' | 'activeLow'>): boolean {
  return (cfg.type === 'NC') !== cfg.activeLow;
}

class FirmataOutput implements Output {
  #value = false;
  #closed = false;

  constructor(
    readonly name: string,
    private readonly drive: (on: boolean) => void,
    private readonly env: DriverEnv,
  ) {}

  get value(): boolean {
    return this.#value;
  }

  write(on: boolean): void {
    if (this.#closed) return;
    this.#value = on;
    this.#safely(on);
  }

  /** The safe level, whatever happened before; what every exit path calls. */
  release(): void {
    this.#value = false;
    this.#safely(false);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.release();
    this.#closed = true;
  }

  #safely(on: boolean): void {
    try {
      this.drive(on);
    } catch (err) {
      // A write never throws (types.ts); a board that went away is the board's log line too.
      this.env.log('error', 'firmata output write failed', { device: this.name, on, error: String(err) });
    }
  }
}

function relayOn(b: ReadyBoard, cfg: FirmataOutputConfig): (on: boolean) => void {
  const relay: J5Relay = new b.five.Relay({ board: b.board, pin: cfg.pin, type: outputInverted(cfg) ? 'NC' : 'NO' });
  // Released before the pin is made an output: the level is latched first, so the pin never
  // shows the energised level on its way to output mode (StandardFirmata leaves digital pins
  // as outputs after reset; johnny-five's Relay does not set the mode itself).
  relay.open();
  b.io.pinMode(relay.pin, b.io.MODES.OUTPUT);
  relay.open();
  return (on) => void (on ? relay.close() : relay.open());
}

function ledOn(b: ReadyBoard, cfg: FirmataOutputConfig): (on: boolean) => void {
  const led: J5Led = new b.five.Led({ board: b.board, pin: cfg.pin });
  const lit = (on: boolean): void => {
    led.stop();
    void (on !== cfg.activeLow ? led.on() : led.off());
  };
  lit(false);
  return lit;
}

/** Opens a relay or LED; it is at its safe level (off) from the board's ready event on. */
export function openOutput(name: string, cfg: FirmataOutputConfig, env: DriverEnv, boards: FirmataBoards): Promise<Output> {
  return boards.use(
    cfg.board,
    (b) => {
      const out = new FirmataOutput(name, cfg.component === 'led' ? ledOn(b, cfg) : relayOn(b, cfg), env);
      b.onClose(() => out.release());
      return out;
    },
    { first: true, device: name, pins: [cfg.pin] },
  );
}
