/**
 * A passive piezo on a Firmata board, as a `Buzzer`: johnny-five's Piezo plays each pattern.
 *
 * StandardFirmata has no tone command, so johnny-five toggles the pin from the host, one Firmata
 * message per half-period over the same serial link the relay uses (and spins a CPU while a tone
 * plays). The tones are kept low (at most 523 Hz: about a third of a 57,600-baud link) and the
 * patterns short, so a relay write never waits behind a beep for long.
 */
import type { DriverEnv } from '../env.js';
import type { BeepPattern, Buzzer } from '../types.js';
import type { FirmataBoards, ReadyBoard } from './boards.js';
import type { J5Piezo } from './j5-types.js';
import type { FirmataBuzzerConfig } from './schemas.js';

/** Beat length of every pattern (ms). */
export const BEAT_MS = 100;
const TEMPO = 60_000 / BEAT_MS;

/** Each pattern as [Hz or null for a rest, beats]; frequencies are notes johnny-five knows (Piezo.Notes). */
export const PATTERNS: Readonly<Record<BeepPattern, readonly (readonly [number | null, number])[]>> = {
  allow: [[392, 1], [523, 2]], // G4 then C5, rising: yes
  deny: [[131, 3], [null, 1], [131, 3]], // C3 twice, low: no
  warn: [[330, 1], [null, 1], [330, 1]], // E4 twice: the session ends soon
  alarm: [[440, 2], [262, 2]], // A4/C4 siren, repeated until off(): held or forced open
};

class FirmataBuzzer implements Buzzer {
  #closed = false;
  /** Bumped by each beep and off(): a pattern's end only acts if nothing came after it. */
  #generation = 0;

  constructor(
    readonly name: string,
    private readonly piezo: J5Piezo,
    private readonly env: DriverEnv,
  ) {}

  /** Plays `pattern`, cutting the one playing; `alarm` repeats until off() or another pattern. */
  beep(pattern: BeepPattern): void {
    if (this.#closed) return;
    const song = PATTERNS[pattern];
    if (!song) return this.env.log('warn', 'unknown beep pattern', { device: this.name, pattern: String(pattern) });
    const gen = ++this.#generation;
    const play = (): void => {
      // Fresh arrays: johnny-five's play() may keep and change what it is given.
      this.piezo.play({ song: song.map(([hz, beats]) => [hz, beats]), tempo: TEMPO }, () =>
        this.#guard(() => {
          if (gen !== this.#generation || this.#closed) return;
          if (pattern === 'alarm') play();
          else this.piezo.off();
        }),
      );
    };
    this.#guard(() => {
      this.#silence();
      play();
    });
  }

  off(): void {
    this.#generation++;
    this.#guard(() => this.#silence());
  }

  /** Silent at once: the rest of the pattern dropped (stop) and the tone cut with the pin low (off). */
  #silence(): void {
    this.piezo.stop();
    this.piezo.off();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.off();
    this.#closed = true;
  }

  #guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.env.log('error', 'firmata buzzer failed', { device: this.name, error: String(err) });
    }
  }
}

function setup(name: string, cfg: FirmataBuzzerConfig, env: DriverEnv, b: ReadyBoard): FirmataBuzzer {
  const buzzer = new FirmataBuzzer(name, new b.five.Piezo({ board: b.board, pin: cfg.pin }), env);
  buzzer.off();
  b.onClose(() => void buzzer.close());
  return buzzer;
}

/** Opens a piezo buzzer; silent until told to beep. */
export function openBuzzer(name: string, cfg: FirmataBuzzerConfig, env: DriverEnv, boards: FirmataBoards): Promise<Buzzer> {
  return boards.use(cfg.board, (b) => setup(name, cfg, env, b), { device: name, pins: [cfg.pin] });
}
