import { afterAll, describe, expect, it } from '@jest/globals';
import { outputSuite } from '@keymesh/testkit/driver-suites/output-suite';
import { inputSuite } from '@keymesh/testkit/driver-suites/input-suite';
import { fakeGpioTools, PI5_CHIPS, type FakeGpioTools } from '@keymesh/testkit/fake-gpio-tools/fake-gpio-tools';
import { eventually } from '@keymesh/testkit/processes';
import { gpiodInputSchema, gpiodOutputSchema, openInput, openOutput, watchEdges } from './index.js';
import { lineKey } from '@keymesh/testkit/fake-gpio-tools/state';

const env = { log: () => {}, now: Date.now };
const CHIP = 'gpiochip0';

const variants: { title: string; tools: FakeGpioTools }[] = [
  { title: 'libgpiod v1.6', tools: fakeGpioTools({ version: '1.6' }) },
  { title: 'libgpiod v2 (gpioset --interactive)', tools: fakeGpioTools({ version: '2', interactive: true }) },
  { title: "libgpiod v2 (Debian's gpioset, no --interactive)", tools: fakeGpioTools({ version: '2' }) },
];
afterAll(() => {
  for (const v of variants) v.tools.remove();
});

/** Until gpiomon holds the line: edges driven after that reach it. */
const monitoring = (tools: FakeGpioTools, pin: number) => eventually(`gpiomon on ${pin}`, () => (tools.state.holder(lineKey(CHIP, pin))?.tool === 'gpiomon' ? true : undefined), 10_000, 10);

for (const { title, tools } of variants) {
  // A fresh line per device (2, 3, ...): one test's levels are not the next one's.
  let outPin = 1;
  outputSuite(`gpiod, ${title}`, {
    open: async ({ activeLow = false }) => {
      outPin++;
      tools.setPull(CHIP, outPin, activeLow); // the pull resistor hardware/ requires: off when released
      return openOutput('relay', gpiodOutputSchema.parse({ driver: 'gpiod', pin: outPin, activeLow }), env, { toolsEnv: tools.env });
    },
    level: () => tools.level(CHIP, outPin),
    levels: () => tools.levels(CHIP, outPin),
  });

  let inPin = 30;
  inputSuite(`gpiod, ${title}`, {
    open: async ({ activeLow = false, debounceMs = 0 }) => {
      inPin++;
      const i = await openInput('doorSensor', gpiodInputSchema.parse({ driver: 'gpiod', pin: inPin, activeLow, debounceMs }), env, { toolsEnv: tools.env });
      await monitoring(tools, inPin);
      return i;
    },
    drive: async (level) => tools.drive(CHIP, inPin, level),
    glitch: async (level, widthMs) => tools.glitch(CHIP, inPin, level, widthMs),
  });
}

describe('gpiod: the command lines each version gets', () => {
  /** The tool's last run once it shows up (v1.6 gives no sign it has started, so the log may lag the open). */
  const lastRun = (tools: FakeGpioTools, tool: string, pin: number) =>
    eventually(`${tool} on ${pin}`, () => tools.calls().filter((c) => c[0] === tool && c.some((a) => a === String(pin) || a.startsWith(`${pin}=`))).at(-1), 10_000, 10);
  const runsOf = (tools: FakeGpioTools, pin: number) => tools.calls().filter((c) => c[0] === 'gpioset' && c.some((a) => a.startsWith(`${pin}=`))).length;

  it('v1.6: gpioset --mode=signal CHIP OFFSET=0 (off on the command line); gpiomon -b with %s %n', async () => {
    const { tools } = variants[0]!;
    const o = await openOutput('relay', gpiodOutputSchema.parse({ driver: 'gpiod', pin: 50, activeLow: true }), env, { toolsEnv: tools.env });
    try {
      expect(await lastRun(tools, 'gpioset', 50)).toEqual(['gpioset', '-l', '--mode=signal', CHIP, '50=0']);
    } finally {
      await o.close();
    }
    const i = await openInput('estop', gpiodInputSchema.parse({ driver: 'gpiod', pin: 51, bias: 'pull-up', debounceMs: 30 }), env, { toolsEnv: tools.env });
    try {
      expect(await lastRun(tools, 'gpiomon', 51)).toEqual(['gpiomon', '-b', '-B', 'pull-up', '-F', '%o %e %s %n', CHIP, '51']);
    } finally {
      await i.close();
    }
  });

  it('v2: gpioset -c CHIP -l -C keymesh-relay --banner [-i] OFFSET=0; gpiomon with -p for debounce and %S', async () => {
    for (const { tools } of variants.slice(1)) {
      const interactive = tools === variants[1]!.tools;
      const o = await openOutput('relay', gpiodOutputSchema.parse({ driver: 'gpiod', pin: 50, activeLow: true }), env, { toolsEnv: tools.env });
      try {
        expect(await lastRun(tools, 'gpioset', 50)).toEqual(['gpioset', '-c', CHIP, '-l', '-C', 'keymesh-relay', '--banner', ...(interactive ? ['-i'] : []), '50=0']);
      } finally {
        await o.close();
      }
      const i = await openInput('estop', gpiodInputSchema.parse({ driver: 'gpiod', pin: 51, bias: 'pull-up', debounceMs: 30 }), env, { toolsEnv: tools.env });
      try {
        expect(await lastRun(tools, 'gpiomon', 51)).toEqual(['gpiomon', '-c', CHIP, '-b', 'pull-up', '-p', '30ms', '-C', 'keymesh-estop', '--banner', '-F', '%o %e %S', '51']);
      } finally {
        await i.close();
      }
    }
  });

  it('an interactive gpioset is one process for the output; the others run one per value', async () => {
    for (const [n, { tools }] of variants.entries()) {
      const before = runsOf(tools, 52);
      const o = await openOutput('relay', gpiodOutputSchema.parse({ driver: 'gpiod', pin: 52 }), env, { toolsEnv: tools.env });
      try {
        // The first step waits for the open's own off (v1.6 gives no sign it holds the line yet).
        for (const v of [false, true, false, true]) {
          o.write(v);
          // Held at v by a live gpioset (not merely released to the pull between two).
          await eventually('the level', () => (tools.state.holder(lineKey(CHIP, 52))?.level === v ? true : undefined), 10_000, 10);
        }
      } finally {
        await o.close();
      }
      expect(runsOf(tools, 52) - before).toBe(n === 1 ? 1 : 4);
    }
  });
});

describe('gpiod: finding the chip and the tools', () => {
  it('on a Pi 5 the header is on the chip labelled pinctrl-rp1', async () => {
    const pi5 = fakeGpioTools({ version: '2', chips: PI5_CHIPS });
    try {
      const o = await openOutput('relay', gpiodOutputSchema.parse({ driver: 'gpiod', pin: 17 }), env, { toolsEnv: pi5.env });
      o.write(true);
      await eventually('the level', () => (pi5.level('gpiochip4', 17) ? true : undefined), 10_000, 10);
      expect(pi5.level('gpiochip0', 17)).toBe(false);
      await o.close();
    } finally {
      pi5.remove();
    }
  });

  it('a chip label not there names the chips found', async () => {
    const { tools } = variants[2]!;
    await expect(openOutput('relay', gpiodOutputSchema.parse({ driver: 'gpiod', pin: 17, chipLabel: 'pinctrl-rp1' }), env, { toolsEnv: tools.env })).rejects.toMatchObject({
      code: 'DRIVER_UNAVAILABLE',
      message: expect.stringContaining('gpiochip0 [pinctrl-bcm2711]'),
    });
  });

  it('without the tools it is DRIVER_UNAVAILABLE naming the package', async () => {
    await expect(openOutput('relay', gpiodOutputSchema.parse({ driver: 'gpiod', pin: 17 }), env, { toolsEnv: { PATH: '/nonexistent' } })).rejects.toMatchObject({
      code: 'DRIVER_UNAVAILABLE',
      message: expect.stringContaining('apt install gpiod'),
    });
  });

  it('a line another process holds fails the open with the tool’s reason; nothing is left running', async () => {
    const { tools } = variants[2]!;
    const first = await openOutput('relay', gpiodOutputSchema.parse({ driver: 'gpiod', pin: 53 }), env, { toolsEnv: tools.env });
    await expect(openOutput('greenLed', gpiodOutputSchema.parse({ driver: 'gpiod', pin: 53 }), env, { toolsEnv: tools.env })).rejects.toMatchObject({
      code: 'DEVICE_FAILED',
      message: expect.stringContaining('Device or resource busy'),
    });
    first.write(true);
    await eventually('the first output still drives it', () => (tools.level(CHIP, 53) ? true : undefined), 10_000, 10);
    await first.close();
  });

  it('a gpioset that dies is started again and holds the value written', async () => {
    const { tools } = variants[1]!;
    const logged: string[] = [];
    const o = await openOutput('relay', gpiodOutputSchema.parse({ driver: 'gpiod', pin: 54 }), { log: (_l, m) => logged.push(m), now: Date.now }, { toolsEnv: tools.env });
    o.write(true);
    await eventually('on', () => (tools.level(CHIP, 54) ? true : undefined), 10_000, 10);
    process.kill(tools.state.holder(lineKey(CHIP, 54))!.pid, 'SIGKILL');
    await eventually('released to its pull (off)', () => (tools.level(CHIP, 54) ? undefined : true), 10_000, 10);
    await eventually('held on again', () => (tools.level(CHIP, 54) ? true : undefined), 10_000, 10);
    expect(logged.join('\n')).toMatch(/gpioset for relay stopped .*starting it again/);
    await o.close();
    expect(tools.level(CHIP, 54)).toBe(false);
  });
});

describe('gpiod edges for Wiegand', () => {
  for (const { title, tools } of [variants[0]!, variants[2]!]) {
    it(`${title}: both edges of each line with the kernel's timestamps`, async () => {
      tools.setPull(CHIP, 20, true);
      tools.setPull(CHIP, 21, true);
      const seen: [number, boolean, bigint][] = [];
      const w = await watchEdges({ driver: 'gpiod' }, [20, 21], (line, rising, atNs) => seen.push([line, rising, atNs]), env, { toolsEnv: tools.env });
      await monitoring(tools, 20);
      tools.glitch(CHIP, 20, false, 2); // a D0 pulse 2 ms wide (as stamped)
      tools.glitch(CHIP, 21, false, 1);
      await eventually('four edges', () => (seen.length >= 4 ? true : undefined), 10_000, 10);
      await w.close();
      const byLine = (l: number) => seen.filter(([line]) => line === l);
      expect(byLine(20).map(([, r]) => r)).toEqual([false, true]);
      expect(byLine(21).map(([, r]) => r)).toEqual([false, true]);
      expect(byLine(20)[1]![2] - byLine(20)[0]![2]).toBe(2_000_000n);
      expect(byLine(21)[1]![2] - byLine(21)[0]![2]).toBe(1_000_000n);
    });
  }
});
