/**
 * The sim reader: the panel's badge buttons, `keymesh-edge tap` and tests present a card by
 * its uid as a person would type it (hex, the decimal on the fob, or a facility print).
 */
import type { CardUid, CardUidForm } from '@keymesh/protocol';
import type { DriverEnv } from '../env.js';
import { ReaderBase } from './reader-base.js';

export class SimReader extends ReaderBase {
  readonly #env: DriverEnv;

  constructor(name: string, env: DriverEnv) {
    super(name);
    this.#env = env;
  }

  /**
   * Presents a card: reports it as a read, or reports an error (and returns undefined) for text
   * that is not a uid of `form`. Nothing happens once the reader is closed.
   */
  present(uidText: string, form: CardUidForm = 'hex'): CardUid | undefined {
    if (this.closed) return undefined;
    const uid = this.canonical(uidText, form);
    if (uid !== undefined) this.emitRead(uid, this.#env.now());
    return uid;
  }

  protected async release(): Promise<void> {}
}
