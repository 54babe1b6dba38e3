/**
 * A digital input (door sensor, exit button, e-stop) on the GPIO character device: its level
 * read once with `gpioget`, then its edges from one long-running `gpiomon` (gpiomon.ts). The
 * line cannot be read while gpiomon holds it, so the level is the start level plus the edges;
 * an edge between the two requests is missed (microseconds; the next edge corrects it).
 * Debounce: v2 asks the kernel (`-p`), v1.6 has no such flag and debounces here.
 */
import type { DigitalInput } from '../types.js';
import type { DriverEnv } from '../env.js';
import { DebouncedLevel, Listeners } from './debounce.js';
import { runTool, type GpiodTools } from './gpiod-tools.js';
import { startGpiomon, type Bias, type Gpiomon } from './gpiomon.js';

export interface GpiodInputLine {
  chip: string;
  offset: number;
  activeLow: boolean;
  bias: Bias;
  debounceMs: number;
  consumer: string;
}

/** gpioget's answer: v1.6 prints "1"/"0"; v2 prints `"17"=active` (or 1/0 with --numeric). */
export function parseGet(out: string): boolean | undefined {
  const t = out.trim();
  if (t === '1' || t === '0') return t === '1';
  const m = /=(active|inactive)$/.exec(t);
  return m ? m[1] === 'active' : undefined;
}

export class GpiodInput implements DigitalInput {
  readonly #listeners: Listeners<[active: boolean, atMs: number]>;
  #debounced!: DebouncedLevel;
  #mon!: Gpiomon;
  #closed = false;

  private constructor(readonly name: string, env: DriverEnv) {
    this.#listeners = new Listeners((err) => env.log('error', `a listener of ${name} threw`, { device: name, error: String(err) }));
  }

  static async open(name: string, tools: GpiodTools, line: GpiodInputLine, env: DriverEnv): Promise<GpiodInput> {
    const i = new GpiodInput(name, env);
    const { chip, offset, activeLow, bias } = line;
    const getArgs =
      tools.major === 2
        ? ['-c', chip, ...(activeLow ? ['-l'] : []), ...(bias !== 'as-is' ? ['-b', bias] : []), '-C', line.consumer, String(offset)]
        : [...(activeLow ? ['-l'] : []), ...(bias !== 'as-is' ? ['-B', bias === 'disabled' ? 'disable' : bias] : []), chip, String(offset)];
    const out = await runTool('gpioget', getArgs, tools.env);
    const initial = parseGet(out);
    if (initial === undefined) throw new Error(`gpioget ${getArgs.join(' ')} answered "${out.trim().slice(0, 80)}", not a level`);
    const softMs = tools.major === 2 ? 0 : line.debounceMs;
    i.#debounced = new DebouncedLevel(initial, softMs, (active, atMs) => i.#listeners.emit(active, atMs));
    i.#mon = startGpiomon(
      tools,
      { chip, offsets: [offset], activeLow, bias, debounceMs: tools.major === 2 ? line.debounceMs : 0, consumer: line.consumer },
      // The level after an edge is the edge's direction (logical, with -l). The kernel's stamp is
      // on another clock; the agent's time of arrival is what the controllers log.
      (_off, rising) => i.#debounced.edge(rising, env.now()),
      (err) => env.log('error', `${name} stopped reporting: ${err.message}`, { device: name }),
    );
    try {
      await i.#mon.ready;
    } catch (err) {
      await i.close();
      throw err;
    }
    return i;
  }

  read(): boolean {
    return this.#debounced.level;
  }

  watch(listener: (active: boolean, atMs: number) => void): () => void {
    return this.#listeners.add(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#debounced.close();
    this.#listeners.clear();
    await this.#mon.close();
  }
}
