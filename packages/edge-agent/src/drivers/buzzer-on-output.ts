/**
 * A `Buzzer` over any `Output`: an active buzzer (it sounds while powered) on a GPIO line, a
 * Firmata pin or a sim. Each pattern is a timed on/off sequence; `alarm` repeats until `off()`
 * or another pattern. A new pattern cuts the one playing; `off()` silences at once.
 */
import type { BeepPattern, Buzzer, Output } from './types.js';

/** Durations in ms, alternating on and off, starting on. */
export interface BeepSequence {
  readonly steps: readonly number[];
  /** Start again after the last step until off() (a repeating sequence ends with an off step). */
  readonly repeat: boolean;
}

export const BEEP_PATTERNS: Readonly<Record<BeepPattern, BeepSequence>> = {
  allow: { steps: [120], repeat: false },
  deny: { steps: [90, 70, 90, 70, 90], repeat: false },
  warn: { steps: [250, 200, 250], repeat: false },
  alarm: { steps: [500, 500], repeat: true },
};

export class BuzzerOnOutput implements Buzzer {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #playing: BeepPattern | null = null;

  constructor(
    readonly output: Output,
    readonly name: string = output.name,
    private readonly patterns: Readonly<Record<BeepPattern, BeepSequence>> = BEEP_PATTERNS,
    /** Told when a pattern starts and when the buzzer falls silent (null): the sim panel shows it. */
    private readonly onPlaying?: (pattern: BeepPattern | null) => void,
  ) {}

  /** The pattern sounding now, null when silent. */
  get playing(): BeepPattern | null {
    return this.#playing;
  }

  beep(pattern: BeepPattern): void {
    if (this.#closed) return;
    this.#stop();
    const seq = this.patterns[pattern];
    this.#setPlaying(pattern);
    this.#step(seq, 0);
  }

  off(): void {
    this.#stop();
    this.#setPlaying(null);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.off();
    this.#closed = true;
    await this.output.close();
  }

  #step(seq: BeepSequence, i: number): void {
    if (i >= seq.steps.length) {
      this.output.write(false);
      if (seq.repeat && seq.steps.length > 0) return this.#step(seq, 0);
      return this.#setPlaying(null);
    }
    this.output.write(i % 2 === 0);
    this.#timer = setTimeout(() => this.#step(seq, i + 1), seq.steps[i]);
  }

  #stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.output.write(false);
  }

  #setPlaying(p: BeepPattern | null): void {
    if (p === this.#playing) return;
    this.#playing = p;
    this.onPlaying?.(p);
  }
}
