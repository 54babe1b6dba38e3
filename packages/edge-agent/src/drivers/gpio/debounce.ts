/**
 * The debounced level of an input line, shared by the drivers that debounce in software (sim,
 * gpiod v1.6, whose gpiomon has no debounce flag). Trailing debounce, like onoff's: a change is
 * taken once the line has rested at its new level for `debounceMs`; a glitch that returns
 * within that time is never reported. Reported times are the edge's own (when the door moved),
 * not the end of the wait.
 */
export class DebouncedLevel {
  #stable: boolean;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(
    initial: boolean,
    private readonly debounceMs: number,
    private readonly changed: (level: boolean, atMs: number) => void,
  ) {
    this.#stable = initial;
  }

  /** The debounced level. */
  get level(): boolean {
    return this.#stable;
  }

  /** A raw edge (or level sample) seen at `atMs`. */
  edge(level: boolean, atMs: number): void {
    if (this.#closed) return;
    if (this.debounceMs <= 0) return this.#settle(level, atMs);
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#settle(level, atMs);
    }, this.debounceMs);
  }

  /** Drops a pending change; nothing is reported after this. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #settle(level: boolean, atMs: number): void {
    if (level === this.#stable) return;
    this.#stable = level;
    this.changed(level, atMs);
  }
}

/** A set of listeners; `add` returns the unsubscribe (safe to call twice). */
export class Listeners<A extends unknown[]> {
  #set = new Set<(...args: A) => void>();

  /** `onError`: where a listener's throw goes (the driver's log), so one bad listener cannot stop the others. */
  constructor(private readonly onError: (err: unknown) => void = () => {}) {}

  add(l: (...args: A) => void): () => void {
    // Wrapped so the same function watched twice is two subscriptions.
    const w = (...args: A): void => l(...args);
    this.#set.add(w);
    return () => void this.#set.delete(w);
  }

  /** Calls each listener; one that throws does not stop the others. */
  emit(...args: A): void {
    for (const l of [...this.#set]) {
      try {
        l(...args);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  clear(): void {
    this.#set.clear();
  }
}
