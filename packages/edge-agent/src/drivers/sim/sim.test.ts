import { describe, expect, it } from '@jest/globals';
import { outputSuite } from '@keymesh/testkit/driver-suites/output-suite';
import { inputSuite } from '@keymesh/testkit/driver-suites/input-suite';
import { buzzerSuite } from '@keymesh/testkit/driver-suites/buzzer-suite';
import { SimBuzzer, SimDisplay, SimInput, SimOutput, openBuzzer, openDisplay, openInput, simDisplaySchema, simInputSchema, simOutputSchema } from './index.js';

const env = { log: () => {}, now: Date.now };

let lastOut: SimOutput | undefined;
outputSuite('sim', {
  open: async ({ activeLow }) => (lastOut = new SimOutput('relay', activeLow)),
  level: () => lastOut!.level,
});

let lastIn: SimInput | undefined;
inputSuite('sim', {
  open: async (opts) => (lastIn = new SimInput('doorSensor', opts)),
  drive: async (level) => lastIn!.setLevel(level),
});

let lastBuzzer: SimBuzzer | undefined;
let buzzes = 0;
buzzerSuite('sim', {
  open: async () => {
    lastBuzzer = new SimBuzzer('buzzer');
    buzzes = 0;
    lastBuzzer.line.onChange((on) => on && buzzes++);
    return lastBuzzer;
  },
  activity: () => buzzes,
  silent: () => !lastBuzzer!.line.value,
});

describe('sim devices for the panel', () => {
  it('an output tells its listeners each change, and not a repeat', () => {
    const o = new SimOutput('relay');
    const seen: boolean[] = [];
    o.onChange((on) => seen.push(on));
    o.write(true);
    o.write(true);
    o.write(false);
    expect(seen).toEqual([true, false]);
  });

  it('set(active) applies the polarity; the config schema fills its defaults and refuses unknown fields', async () => {
    const cfg = simInputSchema.parse({ driver: 'sim', activeLow: true });
    expect(cfg).toEqual({ driver: 'sim', activeLow: true, debounceMs: 0, initial: false });
    const i = await openInput('exitButton', cfg, env);
    expect(i.level).toBe(true);
    i.set(true);
    expect(i.level).toBe(false);
    expect(i.read()).toBe(true);
    expect(simOutputSchema.safeParse({ driver: 'sim', pin: 4 }).success).toBe(false);
    expect(simInputSchema.safeParse({ driver: 'sim', debounceMs: -1 }).success).toBe(false);
  });

  it('initial: an input can start active', async () => {
    const i = await openInput('doorSensor', simInputSchema.parse({ driver: 'sim', initial: true }), env);
    expect(i.read()).toBe(true);
  });

  it('a display keeps its lines cut to size, tells listeners, and prints when asked', async () => {
    const printed: string[] = [];
    const d = new SimDisplay('display', 8, 2, { write: (s) => printed.push(s) });
    const seen: (readonly string[])[] = [];
    d.onChange((l) => seen.push(l));
    d.show(['Welcome to the space', 'Ada\x1b[2J', 'third line dropped']);
    expect(d.lines).toEqual(['Welcome ', 'Ada [2J']);
    expect(seen).toEqual([['Welcome ', 'Ada [2J']]);
    expect(printed.join('')).toContain('│Welcome │');
    d.show(['Welcome to the space', 'Ada\x1b[2J']); // the same again: no change, no print
    expect(seen).toHaveLength(1);
    expect(printed).toHaveLength(1);
    await d.close();
    d.show(['after close']);
    expect(d.lines[0]).toBe('Welcome ');
  });

  it('openDisplay takes its size from the config', async () => {
    const d = await openDisplay('display', simDisplaySchema.parse({ driver: 'sim', columns: 16, rows: 2 }), env);
    expect([d.columns, d.rows, d.lines]).toEqual([16, 2, ['', '']]);
  });

  it('a buzzer tells the panel its pattern and drives its line; off() silences it at once', async () => {
    const b = await openBuzzer('buzzer', { driver: 'sim' }, env);
    const patterns: (string | null)[] = [];
    b.onPattern((p) => patterns.push(p));
    b.beep('alarm');
    expect(b.line.value).toBe(true);
    b.off();
    expect(b.line.value).toBe(false);
    expect(patterns).toEqual(['alarm', null]);
    await b.close();
  });
});
