/**
 * The GPIO driver family: `onoff` (sysfs GPIO) and `gpiod` (the GPIO character device through
 * the libgpiod tools). Importing this module loads neither onoff nor any tool: onoff is imported
 * when an onoff device opens, the tools run when a gpiod device opens. A buzzer on GPIO is an
 * output config (an active buzzer) played by BuzzerOnOutput.
 */
import type { Buzzer, DigitalInput, Output } from '../types.js';
import type { DriverEnv } from '../env.js';
import { BuzzerOnOutput } from '../buzzer-on-output.js';
import { OnoffInput, OnoffOutput, type OnoffDeps } from './onoff.js';
import { openGpiodInput, openGpiodOutput, type GpiodDeps } from './gpiod.js';
import type { GpiodInputConfig, GpiodOutputConfig, OnoffInputConfig, OnoffOutputConfig } from './schemas.js';

export * from './schemas.js';
export { watchEdges, type EdgeSource, type EdgeListener, type EdgeWatch, type EdgeDeps } from './edges.js';
export { gpiodTools, listChips, DEFAULT_CHIP_LABELS, type GpiodTools, type GpioChip } from './gpiod-tools.js';
export { sysfsNumber, SYSFS_GPIO, type OnoffDeps, type OnoffGpioClass } from './onoff.js';
export type { GpiodDeps } from './gpiod.js';

export type GpioOutputConfig = OnoffOutputConfig | GpiodOutputConfig;
export type GpioInputConfig = OnoffInputConfig | GpiodInputConfig;
/** Test seams: a fake onoff Gpio class and sysfs root, or the tools' environment. */
export type GpioDeps = OnoffDeps & GpiodDeps;

export async function openOutput(name: string, cfg: GpioOutputConfig, env: DriverEnv, deps: GpioDeps = {}): Promise<Output> {
  return cfg.driver === 'onoff' ? OnoffOutput.open(name, cfg, env, deps) : openGpiodOutput(name, cfg, env, deps);
}

export async function openInput(name: string, cfg: GpioInputConfig, env: DriverEnv, deps: GpioDeps = {}): Promise<DigitalInput> {
  return cfg.driver === 'onoff' ? OnoffInput.open(name, cfg, env, deps) : openGpiodInput(name, cfg, env, deps);
}

/** An active buzzer on a GPIO line (its config is an output's). */
export async function openBuzzer(name: string, cfg: GpioOutputConfig, env: DriverEnv, deps: GpioDeps = {}): Promise<Buzzer> {
  return new BuzzerOnOutput(await openOutput(name, cfg, env, deps), name);
}
