/**
 * A character LCD (HD44780, 16x2 or 20x4) on a Firmata board, as a `Display`: johnny-five's LCD,
 * wired in parallel or through a PCF8574 I2C backpack.
 *
 * Each line is written whole, padded with spaces (no clear: that flickers and blocks for 2 ms),
 * and only the lines that changed. The LCD's character set is ASCII: accents are dropped
 * ("é" -> "e") and anything else it cannot show becomes "?".
 */
import type { DriverEnv } from '../env.js';
import type { Display } from '../types.js';
import type { FirmataBoards, ReadyBoard } from './boards.js';
import type { J5Lcd } from './j5-types.js';
import type { FirmataDisplayConfig } from './schemas.js';

/** What the HD44780's ROM shows as itself: printable ASCII without "\" (a yen sign) and "~" (an arrow). */
export function lcdText(s: string, columns: number): string {
  const ascii = s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7d]|\\/g, '?');
  return Array.from(ascii).slice(0, columns).join('').padEnd(columns, ' ');
}

class FirmataDisplay implements Display {
  #shown: string[];
  #closed = false;

  constructor(
    readonly name: string,
    readonly columns: number,
    readonly rows: number,
    private readonly lcd: J5Lcd,
    private readonly env: DriverEnv,
  ) {
    this.#shown = Array.from({ length: rows }, () => '');
  }

  show(lines: readonly string[]): void {
    if (this.#closed) return;
    for (let row = 0; row < this.rows; row++) {
      const text = lcdText(String(lines[row] ?? ''), this.columns);
      if (text === this.#shown[row]) continue;
      try {
        this.lcd.setCursor(0, row);
        this.lcd.print(text, { dontProcessSpecials: true });
        this.#shown[row] = text;
      } catch (err) {
        this.#shown[row] = '';
        this.env.log('error', 'firmata display write failed', { device: this.name, error: String(err) });
      }
    }
  }

  /** Blank, so a stopped agent leaves no stale "door open" behind. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.show([]);
    this.#closed = true;
  }
}

function setup(name: string, cfg: FirmataDisplayConfig, env: DriverEnv, b: ReadyBoard): FirmataDisplay {
  const common = { board: b.board, rows: cfg.rows, cols: cfg.columns, lines: cfg.rows > 1 ? 2 : 1 };
  const lcd =
    cfg.controller === 'PARALLEL'
      ? new b.five.LCD({ ...common, pins: cfg.pins })
      : new b.five.LCD({ ...common, controller: cfg.controller, ...(cfg.address !== undefined ? { address: cfg.address } : {}) });
  // johnny-five's initialisation clears the display: each line starts out as spaces.
  const display = new FirmataDisplay(name, cfg.columns, cfg.rows, lcd, env);
  display.show([]);
  b.onClose(() => void display.close());
  return display;
}

/** Opens a character LCD, blank. */
export function openDisplay(name: string, cfg: FirmataDisplayConfig, env: DriverEnv, boards: FirmataBoards): Promise<Display> {
  // An I2C backpack shares SDA/SCL with any other I2C device: only parallel pins are claimed.
  return boards.use(cfg.board, (b) => setup(name, cfg, env, b), { device: name, pins: cfg.pins ?? [] });
}
