/**
 * Fake libgpiod tools for tests of the gpiod driver: a folder of executables named gpiodetect,
 * gpioinfo, gpioget, gpioset and gpiomon (wrappers around tool.js) that behave as libgpiod v1.6
 * or v2, and the test's side of their world: the electrical level of each line, the levels an
 * output went through, driving an input, and the argv of every run. Put `env.PATH` first.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratchDir } from '../temp-files.js';
import { FakeGpioState, lineKey } from './state.js';

export interface FakeChip {
  name: string;
  label: string;
  lines: number;
}

export interface FakeGpioOptions {
  version: '1.6' | '2';
  /** v2 only: whether gpioset was built with --interactive (libedit); Debian's is not. */
  interactive?: boolean;
  chips?: readonly FakeChip[];
}

/** A Pi 4's chips as the kernel names them (BCM numbers are offsets on pinctrl-bcm2711). */
export const PI4_CHIPS: readonly FakeChip[] = [
  { name: 'gpiochip0', label: 'pinctrl-bcm2711', lines: 58 },
  { name: 'gpiochip1', label: 'raspberrypi-exp-gpio', lines: 8 },
];

/** A Pi 5's: the header's lines moved to the RP1 chip. */
export const PI5_CHIPS: readonly FakeChip[] = [
  { name: 'gpiochip0', label: 'gpio-brcmstb@107d508500', lines: 32 },
  { name: 'gpiochip4', label: 'pinctrl-rp1', lines: 54 },
];

const TOOL_JS = fileURLToPath(new URL('./tool.js', import.meta.url));
export const FAKE_GPIO_TOOLS = ['gpiodetect', 'gpioinfo', 'gpioget', 'gpioset', 'gpiomon'] as const;

export interface FakeGpioTools {
  /** The environment to run the driver's tools with (PATH starts with the fakes). */
  env: NodeJS.ProcessEnv;
  binDir: string;
  state: FakeGpioState;
  level(chip: string, offset: number): boolean;
  levels(chip: string, offset: number): boolean[];
  /** The level a released line rests at (the hardware's pull resistor). */
  setPull(chip: string, offset: number, level: boolean): void;
  /** Drives an input line's electrical level (an edge for gpiomon when it changes). */
  drive(chip: string, offset: number, level: boolean): void;
  /** Drives `level` and back `widthMs` later, in one go (two stamped edges). */
  glitch(chip: string, offset: number, level: boolean, widthMs: number): void;
  /** Each tool run so far: [tool, ...args]. */
  calls(): string[][];
  remove(): void;
}

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

export function fakeGpioTools(o: FakeGpioOptions): FakeGpioTools {
  const scratch = scratchDir(`fake-gpiod-${o.version}`);
  const binDir = join(scratch.dir, 'bin');
  const stateDir = join(scratch.dir, 'state');
  mkdirSync(binDir);
  mkdirSync(stateDir);
  for (const t of FAKE_GPIO_TOOLS) {
    const f = join(binDir, t);
    writeFileSync(f, `#!/bin/sh\nexec "${process.execPath}" "${TOOL_JS}" ${t} "$@"\n`);
    chmodSync(f, 0o755);
  }
  const state = new FakeGpioState(stateDir);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${binDir}:${process.env.PATH ?? ''}`,
    FAKE_GPIO_VERSION: o.version,
    FAKE_GPIO_INTERACTIVE: o.interactive ? '1' : '0',
    FAKE_GPIO_STATE: stateDir,
    FAKE_GPIO_CHIPS: JSON.stringify(o.chips ?? PI4_CHIPS),
  };
  return {
    env,
    binDir,
    state,
    level: (chip, offset) => state.level(lineKey(chip, offset)),
    levels: (chip, offset) => state.levels(lineKey(chip, offset)),
    setPull: (chip, offset, level) => state.setPull(lineKey(chip, offset), level),
    drive: (chip, offset, level) => {
      const key = lineKey(chip, offset);
      if (state.level(key) !== level) state.drive(key, [[level, nowNs()]]);
    },
    glitch: (chip, offset, level, widthMs) => {
      const t = nowNs();
      state.drive(lineKey(chip, offset), [
        [level, t],
        [!level, t + BigInt(widthMs) * 1_000_000n],
      ]);
    },
    calls: () => state.calls(),
    remove: scratch.remove,
  };
}
