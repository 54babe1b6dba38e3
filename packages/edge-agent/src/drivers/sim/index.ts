/**
 * The sim driver family (the demo, tests, a config tried before the hardware is wired). Every
 * device it opens is also observable: the panel and the terminal drive and watch them through
 * `onChange`/`onPattern`/`set` (SimOutput, SimInput, SimBuzzer, SimDisplay). Reader: see
 * drivers/readers.
 */
import type { Buzzer, DigitalInput, Display, Output } from '../types.js';
import type { DriverEnv } from '../env.js';
import type { SimBuzzerConfig, SimDisplayConfig, SimInputConfig, SimOutputConfig } from './schemas.js';
import { SimOutput } from './sim-output.js';
import { SimInput } from './sim-input.js';
import { SimBuzzer } from './sim-buzzer.js';
import { SimDisplay } from './sim-display.js';

export * from './schemas.js';
export { SimOutput, SimInput, SimBuzzer, SimDisplay };

export async function openOutput(name: string, cfg: SimOutputConfig, _env: DriverEnv): Promise<Output & SimOutput> {
  return new SimOutput(name, cfg.activeLow);
}

export async function openInput(name: string, cfg: SimInputConfig, env: DriverEnv): Promise<DigitalInput & SimInput> {
  return new SimInput(name, { activeLow: cfg.activeLow, debounceMs: cfg.debounceMs, initial: cfg.initial, now: env.now });
}

export async function openBuzzer(name: string, _cfg: SimBuzzerConfig, _env: DriverEnv): Promise<Buzzer & SimBuzzer> {
  return new SimBuzzer(name);
}

export async function openDisplay(name: string, cfg: SimDisplayConfig, _env: DriverEnv): Promise<Display & SimDisplay> {
  return new SimDisplay(name, cfg.columns, cfg.rows, cfg.print ? process.stdout : undefined);
}
