/** A simulated output (relay, LED): holds its level and tells the panel when it moves. */
import type { Output } from '../types.js';
import { Listeners } from '../gpio/debounce.js';

export class SimOutput implements Output {
  #value = false;
  #closed = false;
  readonly #changes = new Listeners<[on: boolean]>();

  constructor(
    readonly name: string,
    /** Whether the simulated line is active-low (its `level` is inverted). */
    readonly activeLow = false,
  ) {}

  get value(): boolean {
    return this.#value;
  }

  /** The simulated electrical level (true = high): off is high on an active-low line. */
  get level(): boolean {
    return this.#value !== this.activeLow;
  }

  write(on: boolean): void {
    if (this.#closed || on === this.#value) return;
    this.#value = on;
    this.#changes.emit(on);
  }

  /** Called with the new value on each change (the panel's picture of the relay and LEDs). */
  onChange(listener: (on: boolean) => void): () => void {
    return this.#changes.add(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.write(false);
    this.#closed = true;
    this.#changes.clear();
  }
}
