/**
 * What every reader driver shares: its read and error listeners, and silence once closed. A
 * reader's errors name what went wrong (a bad checksum, a glitch) and never the bytes, digits or
 * bits it saw: those are the uid or part of it (DESIGN §3).
 */
import { normaliseCardUid, type CardUid, type CardUidForm } from '@keymesh/protocol';
import { EdgeError } from '../../errors.js';
import type { Reader } from '../types.js';

export abstract class ReaderBase implements Reader {
  readonly name: string;
  #reads = new Set<(uid: CardUid, atMs: number) => void>();
  #errors = new Set<(err: Error) => void>();
  #closed = false;

  constructor(name: string) {
    this.name = name;
  }

  get closed(): boolean {
    return this.#closed;
  }

  onRead(listener: (uid: CardUid, atMs: number) => void): () => void {
    this.#reads.add(listener);
    return () => this.#reads.delete(listener);
  }

  onError(listener: (err: Error) => void): () => void {
    this.#errors.add(listener);
    return () => this.#errors.delete(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#reads.clear();
    this.#errors.clear();
    await this.release();
  }

  /** Frees the device (called once, by close, after the listeners are gone). */
  protected abstract release(): Promise<void>;

  protected emitRead(uid: CardUid, atMs: number): void {
    if (this.#closed) return;
    for (const l of [...this.#reads]) l(uid, atMs);
  }

  /** Reports a bad read as EdgeError BAD_READ; `detail` must not hold any of the read's data. */
  protected emitError(detail: string, code: 'BAD_READ' | 'DEVICE_FAILED' = 'BAD_READ'): void {
    if (this.#closed) return;
    const err = new EdgeError(code, `reader ${this.name}: ${detail}`);
    for (const l of [...this.#errors]) l(err);
  }

  /** The canonical uid of `text`, or an error that says which form failed (never the text: normaliseCardUid's own message quotes it). */
  protected canonical(text: string, form: CardUidForm): CardUid | undefined {
    try {
      return normaliseCardUid(text, form);
    } catch {
      this.emitError(`the read is not a ${form} card number (a garbled read, or the reader is set to another output format)`);
      return undefined;
    }
  }
}
