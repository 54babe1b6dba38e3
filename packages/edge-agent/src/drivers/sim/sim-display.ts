/** A simulated character display: keeps its lines for the panel, and can print them to a terminal. */
import type { Display } from '../types.js';
import { Listeners } from '../gpio/debounce.js';

export class SimDisplay implements Display {
  #lines: string[];
  #closed = false;
  readonly #changes = new Listeners<[lines: readonly string[]]>();

  constructor(
    readonly name: string,
    readonly columns = 20,
    readonly rows = 4,
    /** Where each change is printed (a framed block), if anywhere. */
    private readonly out?: { write(s: string): unknown },
  ) {
    this.#lines = Array.from({ length: rows }, () => '');
  }

  /** What the display shows now: `rows` lines, each at most `columns` characters. */
  get lines(): readonly string[] {
    return this.#lines;
  }

  show(lines: readonly string[]): void {
    if (this.#closed) return;
    // Cut to the display's size, as the LCD would; control characters would garble a terminal.
    const next = Array.from({ length: this.rows }, (_, i) => (lines[i] ?? '').replace(/[\x00-\x1f\x7f]/g, ' ').slice(0, this.columns));
    if (next.every((l, i) => l === this.#lines[i])) return;
    this.#lines = next;
    this.out?.write(`┌${'─'.repeat(this.columns)}┐\n${next.map((l) => `│${l.padEnd(this.columns)}│\n`).join('')}└${'─'.repeat(this.columns)}┘\n`);
    this.#changes.emit(next);
  }

  onChange(listener: (lines: readonly string[]) => void): () => void {
    return this.#changes.add(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#changes.clear();
  }
}
