// Every example config in hardware/examples loads with the real schema (drivers' fields
// included), and the hardware README lists each one: an example that drifts from the schema
// fails here, not at a door.
import { describe, it, expect } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './load.js';

const HARDWARE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../hardware');
const EXAMPLES = join(HARDWARE, 'examples');
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort();

describe('hardware/examples', () => {
  it('holds one example per driver set', () => {
    expect(files).toEqual(['gpiod-door-hid.yaml', 'johnny-five-machine.yaml', 'onoff-door-wiegand.yaml', 'sim-door.yaml', 'sim-machine.yaml']);
  });

  it.each(files)('%s is a valid config', (file) => {
    const c = loadConfig(join(EXAMPLES, file));
    const drivers = new Set(Object.values(c.devices).filter((d) => d !== undefined).map((d) => (d as { driver: string }).driver));
    const named = file.replace(/\.yaml$/, '').split('-');
    // The file's name says its drivers: each named family is used (sim, onoff, gpiod, johnny-five, wiegand, hid).
    for (const family of ['sim', 'onoff', 'gpiod', 'wiegand', 'hid']) if (named.includes(family)) expect(drivers).toContain(family);
    if (file.startsWith('johnny-five')) expect(drivers).toContain('johnny-five');
    expect(c.data.startsWith('/')).toBe(true);
  });

  it('every example is listed in hardware/README.md', () => {
    const readme = readFileSync(join(HARDWARE, 'README.md'), 'utf8');
    for (const f of files) expect(readme).toContain(`examples/${f}`);
  });
});
