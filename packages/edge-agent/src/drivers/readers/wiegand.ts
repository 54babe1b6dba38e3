/**
 * Wiegand 26/34 readers on two GPIO lines. Decoding is in wiegand-decoder.ts; this file takes
 * edges from an edge source (kernel-timestamped edges through the gpio family's watchEdges, or
 * a test's) and ends each frame on a timer after the last edge.
 *
 * Wiegand readers run at 5 V: the data lines need level shifting to the Pi's 3.3 V, and a common
 * ground (without it they send phantom frames, refused here as noise). hardware/ shows it.
 */
import type { DriverEnv } from '../env.js';
import { WiegandDecoder, type WiegandEvent, type WiegandOptions } from './wiegand-decoder.js';
import { ReaderBase } from './reader-base.js';

/** Called for each edge: the line (as configured), whether it rose, when (ns, any origin). */
export type EdgeCallback = (line: number, rising: boolean, atNs: bigint | number) => void;
/** Starts watching `lines`; the returned watch stops it. */
export type WatchEdges = (lines: readonly number[], cb: EdgeCallback) => Promise<{ close(): Promise<void> }>;

export interface WiegandReaderOptions extends WiegandOptions {
  d0: number;
  d1: number;
}

/** ns (bigint or number) to µs as a number, exact for any time since 1970. */
function toUs(atNs: bigint | number): number {
  return typeof atNs === 'bigint' ? Number(atNs / 1000n) + Number(atNs % 1000n) / 1000 : atNs / 1000;
}

export class WiegandReader extends ReaderBase {
  readonly #decoder: WiegandDecoder;
  readonly #env: DriverEnv;
  readonly #d0: number;
  readonly #d1: number;
  #watch: { close(): Promise<void> } | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(name: string, opts: WiegandReaderOptions, env: DriverEnv) {
    super(name);
    this.#decoder = new WiegandDecoder(opts);
    this.#env = env;
    this.#d0 = opts.d0;
    this.#d1 = opts.d1;
  }

  async start(watchEdges: WatchEdges): Promise<void> {
    this.#watch = await watchEdges([this.#d0, this.#d1], (line, rising, atNs) => this.edge(line, rising, atNs));
  }

  /** One edge from the source (public so a source may be wired by hand). */
  edge(line: number, rising: boolean, atNs: bigint | number): void {
    if (this.closed || (line !== this.#d0 && line !== this.#d1)) return;
    this.#onEvents(this.#decoder.edge(line === this.#d0 ? 0 : 1, rising, toUs(atNs)));
    clearTimeout(this.#timer);
    // edges may reach us in bursts (gpiomon's pipe): the timer allows a gap's worth of slack
    this.#timer = setTimeout(() => this.#onEvents(this.#decoder.end()), this.#decoder.opts.gapMs * 2);
    this.#timer.unref();
  }

  #onEvents(events: WiegandEvent[]): void {
    for (const ev of events) {
      if (ev.kind === 'error') this.emitError(ev.detail);
      else this.emitRead(ev.uid, this.#env.now());
    }
  }

  protected async release(): Promise<void> {
    clearTimeout(this.#timer);
    this.#decoder.end();
    await this.#watch?.close();
  }
}

export async function openWiegandReader(name: string, opts: WiegandReaderOptions, env: DriverEnv, watchEdges: WatchEdges): Promise<WiegandReader> {
  const reader = new WiegandReader(name, opts, env);
  await reader.start(watchEdges);
  return reader;
}
