// `keymesh-edge doctor`: each check says what it found and, when wrong, what to do.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { encodeEntry, toHex } from '@keymesh/protocol';
import { TestSite, TEST_CARD_KEY, testKey } from '@keymesh/testkit/site';
import { tempDir } from '@keymesh/testkit/temp-files';
import { parseConfig } from './config/load.js';
import { checkSetup } from './doctor.js';
import { enrol } from './enrol.js';

const site = new TestSite();

/** A port nothing listens on: bound, then released. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function config(data: string, relay: Record<string, unknown> = { driver: 'sim' }) {
  return parseConfig({ data, devices: { reader: { driver: 'sim' }, relay } }, 'test', '/');
}

test('an empty folder fails the enrolment check and says how to enrol', async () => {
  const checks = await checkSetup(config(join(tempDir('km-doc-'), 'none')), { brokerTimeoutMs: 500 });
  expect(checks).toEqual([expect.objectContaining({ name: 'enrolment', status: 'fail', fix: expect.stringMatching(/keymesh-edge enrol/) })]);
});

test('an enrolled node the rules do not know yet, with the broker down: authority and broker fail with their fixes, devices and clock pass', async () => {
  const dir = tempDir('km-doc-');
  const prov = join(dir, 'pi.json');
  writeFileSync(prov, JSON.stringify({
    keymesh: 'provisioning', v: 1, site: site.site, siteName: 'Test Space', genesis: encodeEntry(site.genesis),
    broker: { url: `mqtt://127.0.0.1:${await deadPort()}` }, coordinators: [testKey(9).publicKey], cardKey: TEST_CARD_KEY,
    node: { name: 'door-pi', kind: 'door', resource: 'front-door', seed: toHex(new Uint8Array(32).fill(4)) }, created: 1,
  }));
  const { key } = enrol(prov, join(dir, 'edge'));
  const checks = await checkSetup(config(join(dir, 'edge')), { brokerTimeoutMs: 2000 });
  const by = Object.fromEntries(checks.map((c) => [c.name, c]));
  expect(by.enrolment?.status).toBe('ok');
  expect(by.devices).toMatchObject({ status: 'ok', detail: expect.stringMatching(/relay/) });
  expect(by.authority).toMatchObject({ status: 'fail', fix: expect.stringContaining(`--node-key ${key.publicKey}`) });
  expect(by.clock?.status).toBe('ok');
  expect(by.rules?.status).toBe('warn');
  expect(by.broker).toMatchObject({ status: 'fail', fix: expect.stringMatching(/coordinator runs/) });
});

test('a device that cannot open fails the devices check with the driver\'s reason', async () => {
  const dir = tempDir('km-doc-');
  const prov = join(dir, 'pi.json');
  writeFileSync(prov, JSON.stringify({
    keymesh: 'provisioning', v: 1, site: site.site, siteName: 'Test Space', genesis: encodeEntry(site.genesis),
    broker: { url: `mqtt://127.0.0.1:${await deadPort()}` }, coordinators: [testKey(9).publicKey], cardKey: TEST_CARD_KEY,
    node: { name: 'door-pi', kind: 'door', resource: 'front-door', seed: toHex(new Uint8Array(32).fill(5)) }, created: 1,
  }));
  enrol(prov, join(dir, 'edge'));
  const checks = await checkSetup(config(join(dir, 'edge'), { driver: 'johnny-five', board: 'uno', pin: 7 }), { brokerTimeoutMs: 500 });
  expect(checks.find((c) => c.name === 'devices')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/uno/) });
});
