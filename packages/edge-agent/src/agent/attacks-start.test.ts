// Red team: a clumsy operator starts a second agent on a data folder an agent already runs on
// (`keymesh-edge run` by hand while the service runs). The second must refuse before it opens
// any device: opening the relay drives it de-energised (it would cut the first agent's running
// machine or relock its door), and closing it on the way out unexports the first one's GPIO.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { encodeEntry, toHex } from '@keymesh/protocol';
import { TestSite, TEST_CARD_KEY, testKey } from '@keymesh/testkit/site';
import { tempDir } from '@keymesh/testkit/temp-files';
import { parseConfig } from '../config/load.js';
import { processIdentity, writeAgentRecord } from '../data-dir.js';
import { enrol } from '../enrol.js';
import { Agent } from './agent.js';

test('a second agent on a folder another live agent runs on refuses before opening any device', async () => {
  const site = new TestSite();
  const dir = tempDir('km-two-');
  const prov = join(dir, 'pi.json');
  writeFileSync(prov, JSON.stringify({
    keymesh: 'provisioning', v: 1, site: site.site, siteName: 'Test Space', genesis: encodeEntry(site.genesis),
    broker: { url: 'mqtt://127.0.0.1:1' }, coordinators: [testKey(9).publicKey], cardKey: TEST_CARD_KEY,
    node: { name: 'door-pi', kind: 'door', resource: 'front', seed: toHex(new Uint8Array(32).fill(8)) }, created: 1,
  }));
  const r = enrol(prov, join(dir, 'edge'));
  // The first agent: another live process (jest's parent stands in for it), as it records itself.
  writeAgentRecord(r.paths, { pid: process.ppid, panel: null, started: Date.now(), proc: processIdentity(process.ppid) ?? undefined });
  const config = parseConfig({ data: 'edge', panel: false, devices: { reader: { driver: 'sim' }, relay: { driver: 'sim' } }, log: { level: 'silent' } }, 'test', dir);
  const steps: string[] = [];
  const second = new Agent({ config, log: pino({ level: 'silent' }), trace: (s) => steps.push(s) });
  await expect(second.start()).rejects.toMatchObject({ code: 'AGENT_RUNNING' });
  expect(steps).toEqual([]);
  expect(second.devices).toBeNull();
});

test('SIGTERM during start (stop() before the ledger opened): start does not go on to open the panel and the network after the stop', async () => {
  const site = new TestSite();
  const dir = tempDir('km-early-stop-');
  const prov = join(dir, 'pi.json');
  writeFileSync(prov, JSON.stringify({
    keymesh: 'provisioning', v: 1, site: site.site, siteName: 'Test Space', genesis: encodeEntry(site.genesis),
    broker: { url: 'mqtt://127.0.0.1:1' }, coordinators: [testKey(9).publicKey], cardKey: TEST_CARD_KEY,
    node: { name: 'door-pi', kind: 'door', resource: 'front', seed: toHex(new Uint8Array(32).fill(9)) }, created: 1,
  }));
  enrol(prov, join(dir, 'edge'));
  const config = parseConfig({ data: 'edge', panel: { host: '127.0.0.1', port: 0 }, devices: { reader: { driver: 'sim' }, relay: { driver: 'sim' } }, log: { level: 'silent' } }, 'test', dir);
  const steps: string[] = [];
  const a = new Agent({ config, log: pino({ level: 'silent' }), trace: (s) => steps.push(s) });
  const started = a.start().then(() => 'started', (err: { code?: string }) => err.code ?? 'failed');
  await a.stop(); // as the SIGTERM handler does, while start is still opening the devices
  const outcome = await started;
  const leftRunning = { panel: a.panel !== null, network: a.connection !== null };
  // Clean up whatever start went on to open, so jest can exit either way.
  await a.panel?.close();
  await a.connection?.close();
  a.ledger?.close();
  expect(steps).not.toContain('network');
  expect(leftRunning).toEqual({ panel: false, network: false });
  expect(outcome).not.toBe('started');
});
