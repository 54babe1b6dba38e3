/**
 * The gpiod driver's open functions: finds the tools and the chip, then opens the line
 * (gpiod-output.ts, gpiod-input.ts). `deps.toolsEnv` is the environment the tools run with
 * (tests put fake tools first on PATH).
 */
import type { DriverEnv } from '../env.js';
import { findChip, gpiodTools } from './gpiod-tools.js';
import { GpiodOutput } from './gpiod-output.js';
import { GpiodInput } from './gpiod-input.js';
import type { GpiodInputConfig, GpiodOutputConfig } from './schemas.js';

export interface GpiodDeps {
  toolsEnv?: NodeJS.ProcessEnv;
}

/** The consumer name gpioinfo shows for the agent's lines. */
const consumer = (name: string) => `keymesh-${name}`.slice(0, 31);

export async function openGpiodOutput(name: string, cfg: GpiodOutputConfig, env: DriverEnv, deps: GpiodDeps = {}): Promise<GpiodOutput> {
  const tools = await gpiodTools(deps.toolsEnv);
  const chip = await findChip(tools, cfg.pin, cfg.chipLabel);
  return GpiodOutput.open(name, tools, { chip: chip.name, offset: cfg.pin, activeLow: cfg.activeLow, consumer: consumer(name) }, env);
}

export async function openGpiodInput(name: string, cfg: GpiodInputConfig, env: DriverEnv, deps: GpiodDeps = {}): Promise<GpiodInput> {
  const tools = await gpiodTools(deps.toolsEnv);
  const chip = await findChip(tools, cfg.pin, cfg.chipLabel);
  return GpiodInput.open(name, tools, { chip: chip.name, offset: cfg.pin, activeLow: cfg.activeLow, bias: cfg.bias, debounceMs: cfg.debounceMs, consumer: consumer(name) }, env);
}
