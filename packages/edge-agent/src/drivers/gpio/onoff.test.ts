import { afterAll, describe, expect, it } from '@jest/globals';
import { outputSuite } from '@keymesh/testkit/driver-suites/output-suite';
import { inputSuite } from '@keymesh/testkit/driver-suites/input-suite';
import { buzzerSuite } from '@keymesh/testkit/driver-suites/buzzer-suite';
import { BOOKWORM_PI4_SYSFS, fakeOnoff, fakeSysfsTree, type FakeOnoffWorld } from '@keymesh/testkit/fake-gpio-tools/fake-onoff';
import { OnoffInput, OnoffOutput, sysfsNumber } from './onoff.js';
import { onoffInputSchema, onoffOutputSchema, openBuzzer, openOutput, watchEdges } from './index.js';

const env = { log: () => {}, now: Date.now };
const bookworm = fakeSysfsTree(BOOKWORM_PI4_SYSFS);
afterAll(() => bookworm.remove());
const PIN = 17;
const N = 512 + PIN; // Bookworm: the pinctrl chip's sysfs numbers start at 512

// A fresh world per device, so one test's levels are not the next one's.
let world: FakeOnoffWorld = fakeOnoff();
const deps = () => ({ Gpio: world.Gpio, sysfsRoot: bookworm.root });

outputSuite('onoff (fake Gpio, Bookworm sysfs)', {
  open: async ({ activeLow = false }) => {
    world = fakeOnoff();
    world.setPull(N, activeLow); // the pull resistor holds a released line off (hardware/)
    return OnoffOutput.open('relay', onoffOutputSchema.parse({ driver: 'onoff', pin: PIN, activeLow }), env, deps());
  },
  level: () => world.level(N),
  levels: () => world.levels(N),
});

inputSuite('onoff (fake Gpio, Bookworm sysfs)', {
  open: async ({ activeLow = false, debounceMs = 0 }) => {
    world = fakeOnoff();
    return OnoffInput.open('doorSensor', onoffInputSchema.parse({ driver: 'onoff', pin: PIN, activeLow, debounceMs }), env, deps());
  },
  drive: async (level) => world.drive(N, level),
});

// An active buzzer on an active-low line: sound is the line low.
buzzerSuite('onoff, an active buzzer on an active-low line', {
  open: async () => {
    world = fakeOnoff();
    world.setPull(N, true);
    return openBuzzer('buzzer', onoffOutputSchema.parse({ driver: 'onoff', pin: PIN, activeLow: true }), env, deps());
  },
  activity: () => world.levels(N).filter((l) => !l).length,
  silent: () => world.level(N),
});

describe('onoff: BCM numbers through the chip base', () => {
  it('adds the base of the chip found by label: 512 on Bookworm, 0 on older kernels', () => {
    expect(sysfsNumber(17, undefined, bookworm.root)).toBe(529);
    const old = fakeSysfsTree([{ base: 0, label: 'pinctrl-bcm2835', ngpio: 54 }, { base: 504, label: 'raspberrypi-exp-gpio', ngpio: 8 }]);
    try {
      expect(sysfsNumber(17, undefined, old.root)).toBe(17);
      expect(sysfsNumber(2, 'raspberrypi-exp-gpio', old.root)).toBe(506);
    } finally {
      old.remove();
    }
  });

  it('finds the Pi 5 header on pinctrl-rp1 before any other chip', () => {
    const pi5 = fakeSysfsTree([{ base: 512, label: 'gpio-brcmstb@107d508500', ngpio: 32 }, { base: 571, label: 'pinctrl-rp1', ngpio: 54 }]);
    try {
      expect(sysfsNumber(17, undefined, pi5.root)).toBe(588);
    } finally {
      pi5.remove();
    }
  });

  it('without /sys/class/gpio (Trixie) it is DRIVER_UNAVAILABLE naming gpiod', async () => {
    const missing = `${bookworm.root}-not-there`;
    expect(() => sysfsNumber(17, undefined, missing)).toThrow(expect.objectContaining({ code: 'DRIVER_UNAVAILABLE', message: expect.stringContaining('use driver gpiod') }));
    await expect(openOutput('relay', onoffOutputSchema.parse({ driver: 'onoff', pin: 17 }), env, { Gpio: world.Gpio, sysfsRoot: missing })).rejects.toMatchObject({ code: 'DRIVER_UNAVAILABLE' });
  });

  it('a label not found names the chips there are; a pin past the chip is BAD_CONFIG', () => {
    expect(() => sysfsNumber(17, 'pinctrl-rp1', bookworm.root)).toThrow(/gpiochip512 \[pinctrl-bcm2711\]/);
    expect(() => sysfsNumber(60, undefined, bookworm.root)).toThrow(expect.objectContaining({ code: 'BAD_CONFIG' }));
  });

  it('nothing is exported when the config cannot be mapped', async () => {
    world = fakeOnoff();
    await expect(OnoffOutput.open('relay', onoffOutputSchema.parse({ driver: 'onoff', pin: 60 }), env, deps())).rejects.toMatchObject({ code: 'BAD_CONFIG' });
    expect(world.exported(512 + 60)).toBe(false);
  });
});

describe('onoff config', () => {
  it('fills defaults and refuses unknown fields and impossible pins', () => {
    expect(onoffInputSchema.parse({ driver: 'onoff', pin: 4 })).toEqual({ driver: 'onoff', pin: 4, activeLow: false, debounceMs: 20 });
    expect(onoffOutputSchema.safeParse({ driver: 'onoff', pin: 4, pull: 'up' }).success).toBe(false);
    expect(onoffOutputSchema.safeParse({ driver: 'onoff', pin: 64 }).success).toBe(false);
    expect(onoffOutputSchema.safeParse({ driver: 'onoff', pin: 4.5 }).success).toBe(false);
  });
});

describe('onoff edges for Wiegand', () => {
  it('each low pulse is one falling edge, though onoff reads the line after the pulse is over', async () => {
    world = fakeOnoff();
    world.setPull(512 + 5, true); // Wiegand lines idle high
    world.setPull(512 + 6, true);
    const seen: [number, boolean, bigint][] = [];
    const w = await watchEdges({ driver: 'onoff' }, [5, 6], (line, rising, atNs) => seen.push([line, rising, atNs]), env, deps());
    world.glitch(512 + 5, false); // D0 pulse
    world.glitch(512 + 6, false); // D1 pulse
    world.glitch(512 + 6, false);
    expect(seen.map(([l, r]) => [l, r])).toEqual([
      [5, false],
      [6, false],
      [6, false],
    ]);
    expect(seen[2]![2]).toBeGreaterThanOrEqual(seen[0]![2]);
    await w.close();
    expect(world.exported(517)).toBe(false);
    world.glitch(512 + 5, false);
    expect(seen).toHaveLength(3);
  });
});
