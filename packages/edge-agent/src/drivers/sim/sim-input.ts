/** A simulated input (door sensor, exit button, e-stop): set by the panel, the terminal or a test. */
import type { DigitalInput } from '../types.js';
import { DebouncedLevel, Listeners } from '../gpio/debounce.js';

export class SimInput implements DigitalInput {
  #level: boolean;
  #closed = false;
  readonly #debounced: DebouncedLevel;
  readonly #listeners = new Listeners<[active: boolean, atMs: number]>();
  readonly #now: () => number;
  readonly activeLow: boolean;

  constructor(
    readonly name: string,
    opts: { activeLow?: boolean; debounceMs?: number; initial?: boolean; now?: () => number } = {},
  ) {
    this.activeLow = opts.activeLow ?? false;
    this.#now = opts.now ?? Date.now;
    const initial = opts.initial ?? false;
    this.#level = initial !== this.activeLow;
    this.#debounced = new DebouncedLevel(initial, opts.debounceMs ?? 0, (active, atMs) => this.#listeners.emit(active, atMs));
  }

  /** Sets the input active or not, as the panel's switch does (the polarity is applied for you). */
  set(active: boolean): void {
    this.setLevel(active !== this.activeLow);
  }

  /** Sets the simulated electrical level (true = high), as a wire would. */
  setLevel(level: boolean): void {
    if (this.#closed || level === this.#level) return;
    this.#level = level;
    this.#debounced.edge(level !== this.activeLow, this.#now());
  }

  /** The simulated electrical level. */
  get level(): boolean {
    return this.#level;
  }

  read(): boolean {
    return this.#debounced.level;
  }

  watch(listener: (active: boolean, atMs: number) => void): () => void {
    return this.#listeners.add(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#debounced.close();
    this.#listeners.clear();
  }
}
