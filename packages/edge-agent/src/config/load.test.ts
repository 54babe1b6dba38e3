// The agent's config: YAML or JSON; each problem named by field, value, what is wrong and what the field is for.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@keymesh/testkit/temp-files';
import { driversFor, loadConfig, parseConfig } from './load.js';

function write(text: string, name = 'edge.yaml'): string {
  const p = join(tempDir('km-config-'), name);
  writeFileSync(p, text);
  return p;
}

const minimal = 'devices:\n  reader: { driver: sim }\n  relay: { driver: sim }\n';

test('a minimal config gets every default, and data relative to the config file', () => {
  const p = write(minimal);
  const c = loadConfig(p);
  expect(c.data).toBe(join(p, '..', 'keymesh-edge-data'));
  expect(c.panel).toEqual({ host: '127.0.0.1', port: 8081 });
  expect(c.door.lock).toBe('fail_secure');
  expect(c.taps.tapRepeatMs).toBeGreaterThan(0);
});

test('JSON is taken as well', () => {
  const c = loadConfig(write(JSON.stringify({ data: '/var/lib/keymesh-edge', devices: { reader: { driver: 'sim' }, relay: { driver: 'sim' } } }), 'edge.json'));
  expect(c.data).toBe('/var/lib/keymesh-edge');
});

test('an unknown driver is named with the drivers that exist for that device', () => {
  expect(() => loadConfig(write(minimal.replace('relay: { driver: sim }', 'relay: { driver: gpoi }')))).toThrow(
    new RegExp(`devices\\.relay\\.driver: found "gpoi": no driver of that name; a relay may use ${driversFor('relay').join(', ')}`),
  );
  expect(driversFor('relay')).toEqual(expect.arrayContaining(['sim', 'johnny-five']));
});

test('a wrong value names the field, the value, the problem and what the field is for', () => {
  let message = '';
  try {
    loadConfig(write(`${minimal}door:\n  heldOpenSeconds: -3\n  lock: magnet\n`));
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message).toMatch(/door\.heldOpenSeconds: found -3: .*>=1.*This field: an open door raises the held-open alarm/);
  expect(message).toMatch(/door\.lock: found "magnet": .*fail_secure.*This field: fail_secure: an electric strike/);
});

test('unknown fields are refused by name (a typo is not silently ignored)', () => {
  expect(() => parseConfig({ devices: { reader: { driver: 'sim' }, relay: { driver: 'sim' } }, pannel: false }, 'x', '/')).toThrow(/unknown field\(s\) "pannel"/);
});

test('a missing device says which', () => {
  expect(() => parseConfig({ devices: { reader: { driver: 'sim' } } }, 'x', '/')).toThrow(/devices\.relay: found nothing/);
});

test('bad YAML, an unreadable path and an oversized file get errors that say what to do', () => {
  expect(() => loadConfig(write('devices: [unclosed'))).toThrow(/is not YAML or JSON.*Fix the syntax/);
  expect(() => loadConfig('/nonexistent/edge.yaml')).toThrow(/cannot be read.*hardware\/examples/);
  expect(() => loadConfig(write('#'.repeat(1024 * 1024 + 10)))).toThrow(/not a config file/);
});
