// Red team: a clumsy operator. A real door (a real reader, its relay on GPIO) configured with
// one sim device (a sim display because the LCD has not arrived, say) and the demo's simCards
// left in the config: the panel must not offer sim taps, or anyone reaching it opens the real
// door with POST /api/sim/tap {"card":"Ada"}. Panel taps stand in for a sim reader only (a
// bench with a sim reader and a real lock keeps them: tests/src/edge-safety.test.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { encodeEntry, toHex } from '@keymesh/protocol';
import { TestSite, TEST_CARD_KEY, testKey } from '@keymesh/testkit/site';
import { fakeGpioTools } from '@keymesh/testkit/fake-gpio-tools/fake-gpio-tools';
import { tempDir } from '@keymesh/testkit/temp-files';
import { parseConfig } from '../config/load.js';
import { enrol } from '../enrol.js';
import { Agent } from './agent.js';

const tools = fakeGpioTools({ version: '2', interactive: true });
const saved = { ...process.env };
let agent: Agent | undefined;

afterAll(async () => {
  await agent?.stop();
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
  tools.remove();
});

test('a real reader and relay with a sim display and leftover simCards: no sim taps on the panel', async () => {
  Object.assign(process.env, tools.env); // the gpiod driver runs the (fake) libgpiod tools found on PATH
  tools.setPull('gpiochip0', 17, false);
  const site = new TestSite();
  const dir = tempDir('km-sim-real-');
  const prov = join(dir, 'pi.json');
  writeFileSync(prov, JSON.stringify({
    keymesh: 'provisioning', v: 1, site: site.site, siteName: 'Test Space', genesis: encodeEntry(site.genesis),
    broker: { url: 'mqtt://127.0.0.1:1' }, coordinators: [testKey(9).publicKey], cardKey: TEST_CARD_KEY,
    node: { name: 'door-pi', kind: 'door', resource: 'front', seed: toHex(new Uint8Array(32).fill(12)) }, created: 1,
  }));
  enrol(prov, join(dir, 'edge'));
  const hidDevice = join(dir, 'event-kbd'); // an evdev node with nothing to say
  writeFileSync(hidDevice, '');
  const config = parseConfig({
    data: 'edge', panel: false, log: { level: 'silent' },
    devices: { reader: { driver: 'hid', device: hidDevice }, relay: { driver: 'gpiod', pin: 17 }, display: { driver: 'sim' } },
    simCards: [{ label: 'Ada', uid: '0a0b0c0d' }],
  }, 'test', dir);
  agent = await Agent.start({ config, log: pino({ level: 'silent' }) });
  expect(agent.view.sim).toBeUndefined();
}, 30_000);
