/**
 * Raw timestamped edges of a few GPIO lines, for the Wiegand reader (its decoder times the
 * pulses on D0 and D1 itself). The signature the decoder uses:
 *
 *   watchEdges(source: EdgeSource, lines: readonly number[],
 *              cb: (line: number, rising: boolean, atNs: bigint) => void,
 *              env: DriverEnv, deps?: EdgeDeps): Promise<{ close(): Promise<void> }>
 *
 *   - `lines`: BCM numbers; `line` in the callback is one of them.
 *   - `rising`: the electrical edge (no active-low: Wiegand lines idle high, a bit is a low pulse).
 *   - `atNs`: when it happened, in ns on a monotonic clock; only differences mean anything.
 *
 * source 'gpiod' (preferred, DESIGN §9): one gpiomon over the lines, both edges, each stamped by
 * the kernel at the interrupt. source 'onoff': sysfs gives no timestamps and onoff reads the
 * level after waking, by which time a 50 µs Wiegand pulse is over; so the kernel is asked for
 * falling edges only, each wake-up is reported as one falling edge stamped on arrival
 * (process.hrtime), and onoff's after-the-fact level filter is turned off. Pulses that come
 * closer together than the wake-up latency can merge: Wiegand on onoff is best effort.
 */
import type { DriverEnv } from '../env.js';
import { findChip, gpiodTools } from './gpiod-tools.js';
import { startGpiomon } from './gpiomon.js';
import { loadGpio, sysfsNumber, type OnoffDeps, type OnoffGpio } from './onoff.js';

export interface EdgeSource {
  driver: 'gpiod' | 'onoff';
  /** The chip's label; default as for outputs and inputs (pinctrl-rp1, -bcm2711, -bcm2835). */
  chipLabel?: string;
}

export type EdgeListener = (line: number, rising: boolean, atNs: bigint) => void;

export interface EdgeDeps extends OnoffDeps {
  /** The environment the libgpiod tools run with (tests put fake tools first on PATH). */
  toolsEnv?: NodeJS.ProcessEnv;
}

export interface EdgeWatch {
  close(): Promise<void>;
}

export async function watchEdges(source: EdgeSource, lines: readonly number[], cb: EdgeListener, env: DriverEnv, deps: EdgeDeps = {}): Promise<EdgeWatch> {
  if (source.driver === 'gpiod') {
    const tools = await gpiodTools(deps.toolsEnv);
    const chip = await findChip(tools, Math.max(...lines), source.chipLabel);
    const mon = startGpiomon(tools, { chip: chip.name, offsets: lines, consumer: 'keymesh-wiegand' }, cb, (err) =>
      env.log('error', `the Wiegand lines stopped reporting: ${err.message}`, { lines: lines.join(',') }),
    );
    try {
      await mon.ready;
    } catch (err) {
      await mon.close();
      throw err;
    }
    return mon;
  }
  const Gpio = await loadGpio(deps);
  const opened: OnoffGpio[] = [];
  try {
    for (const line of lines) {
      const g = new Gpio(sysfsNumber(line, source.chipLabel, deps.sysfsRoot), 'in', 'falling');
      opened.push(g);
      // onoff calls back only if the level it reads now is on an enabled edge; the pulse is over
      // by then (high), so let every wake through: the kernel only wakes us on falling edges.
      (g as unknown as { _risingEnabled: boolean })._risingEnabled = true;
      g.watch((err) => {
        if (err) return env.log('error', `Wiegand line ${line}: ${err.message}`, { line });
        cb(line, false, process.hrtime.bigint());
      });
    }
  } catch (err) {
    for (const g of opened) g.unexport();
    throw err;
  }
  return {
    close: async () => {
      for (const g of opened.splice(0)) {
        try {
          g.unwatchAll();
          g.unexport();
        } catch {
          /* already released */
        }
      }
    },
  };
}
