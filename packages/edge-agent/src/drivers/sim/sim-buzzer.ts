/** A simulated buzzer: the buzzer-on-output patterns over a sim output, with each pattern told to the panel. */
import type { BeepPattern } from '../types.js';
import { BuzzerOnOutput } from '../buzzer-on-output.js';
import { Listeners } from '../gpio/debounce.js';
import { SimOutput } from './sim-output.js';

export class SimBuzzer extends BuzzerOnOutput {
  readonly #patterns: Listeners<[pattern: BeepPattern | null]>;
  /** The simulated line under the buzzer (on while it sounds). */
  readonly line: SimOutput;

  constructor(name: string) {
    const patterns = new Listeners<[pattern: BeepPattern | null]>();
    const line = new SimOutput(name);
    super(line, name, undefined, (p) => patterns.emit(p));
    this.#patterns = patterns;
    this.line = line;
  }

  /** Called when a pattern starts and with null when the buzzer falls silent. */
  onPattern(listener: (pattern: BeepPattern | null) => void): () => void {
    return this.#patterns.add(listener);
  }
}
