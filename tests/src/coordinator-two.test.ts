// Two coordinators of one site on one broker (DESIGN §10-11), in process so their ledgers can be
// compared: a node writes decisions, and admin entries are submitted to each coordinator's API;
// both end with the same ledger digest.
//
// The broker is Debian's Mosquitto with both coordinators enrolled (the second by a node.enrol
// with role coordinator, signed by the admin). The other arrangement, the second coordinator as
// a client of the first's embedded broker, is not one the product offers: `--broker URL` logs in
// with the broker password derived from broker.secret, while the embedded broker takes only
// login tokens, each good once, so it could not reconnect either.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { Ledger } from '@keymesh/ledger';
import { generateKeyPair, nextEntry, parseEntryText, type KeyPair, type ProvisioningFile } from '@keymesh/protocol';
import { Coordinator, brokerPassword, dataPaths, initSite, readKeyFile, readOrCreateBrokerSecret, writeKeyFile, writeMosquittoConf } from '@keymesh/coordinator';
import { eventually } from '@keymesh/testkit/processes';
import { freePort, startMosquitto, type MosquittoHandle } from '@keymesh/testkit/mosquitto';
import { tempDir } from '@keymesh/testkit/temp-files';
import { capturedLog } from './captured-log.js';
import { startMqttNode, type MqttNode } from './mqtt-node.js';

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
});

/** Signs `body` as the next entry of `key`'s feed as coordinator `c` holds it, and submits it to c's API. */
async function submit(c: Coordinator, key: KeyPair, type: 'member.put', body: unknown): Promise<void> {
  const base = `http://127.0.0.1:${c.httpPort}`;
  const res = await fetch(`${base}/api/feeds/${key.publicKey}/head`);
  const head = res.status === 404 ? null : parseEntryText(((await res.json()) as { line: string }).line).entry;
  const { wire } = nextEntry(head, type, body as never, key, { site: c.site });
  const posted = await fetch(`${base}/api/entries`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ entry: wire }) });
  if (posted.status !== 201) throw new Error(`POST /api/entries to ${c.key.publicKey.slice(0, 8)}: ${posted.status} ${await posted.text()}`);
}

const member = (id: string, name: string) => ({ member: id, name, contact: '', status: 'active', validUntil: null, keys: [], trainerFor: [] });

/**
 * A site with two coordinators on one Mosquitto and an edge node, all started. `second`: the
 * second coordinator's ledger is a copy of the first's (made before either starts), or empty
 * (it starts from the genesis in site.json, as a coordinator whose disk was lost).
 */
async function twoCoordinators(second: 'copy' | 'genesis') {
  const root = tempDir('km-two-');
  const data1 = join(root, 'c1');
  const site = initSite({ name: 'Two Coordinators', data: data1, keysDir: join(root, 'keys') });
  const recovery = readKeyFile(site.recoveryKeyFile);
  const edge = generateKeyPair();
  const c2key = generateKeyPair();
  const ledger = Ledger.open(dataPaths(data1).ledger, { site: site.site });
  try {
    ledger.append(site.daily, 'resource.put', { resource: 'front-door', name: 'Front door', kind: 'door', requiredCerts: [], schedule: null, unlockSeconds: 5, idleTimeoutSeconds: null, maxStaleHours: null, risk: 'normal' });
    ledger.append(site.daily, 'node.enrol', { node: edge.publicKey, name: 'front-pi', role: 'edge', resources: ['front-door'] });
    ledger.append(site.daily, 'node.enrol', { node: c2key.publicKey, name: 'second', role: 'coordinator', resources: [] });
  } finally {
    ledger.close();
  }
  // The second coordinator's folder: the site record, card key and broker secret, and its own key.
  const data2 = join(root, 'c2');
  mkdirSync(data2, { mode: 0o700 });
  const secret = readOrCreateBrokerSecret(data1);
  const copied = ['site.json', 'card.key', 'broker.secret', ...(second === 'copy' ? ['ledger.db', 'ledger.db-wal'] : [])];
  for (const f of copied) if (existsSync(join(data1, f))) copyFileSync(join(data1, f), join(data2, f));
  writeKeyFile(dataPaths(data2).nodeKey, c2key, 'second coordinator');

  const port = await freePort();
  const url = `mqtt://127.0.0.1:${port}`;
  const files = writeMosquittoConf({ dataDir: data1, outDir: join(root, 'mosquitto'), port, host: '127.0.0.1' });
  expect(files.users.filter((u) => u.role === 'coordinator')).toHaveLength(2);
  const conf = join(root, 'test-mosquitto.conf');
  writeFileSync(conf, readFileSync(files.confFile, 'utf8') + `user ${userInfo().username}\n`);
  const mosquitto: MosquittoHandle = await startMosquitto(conf, port);
  cleanup.push(() => mosquitto.stop());

  const logs = [capturedLog(), capturedLog()];
  const c1 = await Coordinator.start({ data: data1, broker: url, httpPort: 0, host: '127.0.0.1', syncIntervalMs: 300, log: logs[0]!.log });
  cleanup.push(() => c1.stop());
  const c2 = await Coordinator.start({ data: data2, broker: url, httpPort: 0, host: '127.0.0.1', syncIntervalMs: 300, log: logs[1]!.log });
  cleanup.push(() => c2.stop());
  expect(c2.ledger.count()).toBe(second === 'copy' ? c1.ledger.count() : 1);

  const genesis = (JSON.parse(readFileSync(dataPaths(data1).site, 'utf8')) as { genesis: string }).genesis;
  const prov = { site: site.site, genesis, broker: { url, username: edge.publicKey, password: brokerPassword(secret, edge.publicKey) }, coordinators: [c1.key.publicKey, c2.key.publicKey] } as unknown as ProvisioningFile;
  const node: MqttNode = await startMqttNode({ prov, key: edge, dir: root, intervalMs: 300 });
  cleanup.push(() => node.close());
  return { site, recovery, edge, c1, c2, node, logs };
}

test('two coordinators on one Mosquitto end with the same ledger digest', async () => {
  const { site, recovery, edge, c1, c2, node, logs } = await twoCoordinators('copy');
  node.decide('front-door', 5);
  await submit(c1, site.daily, 'member.put', member('ada', 'Ada Lovelace'));
  await submit(c2, recovery, 'member.put', member('bob', 'Bob Ross'));
  // The daily admin's next entry, through the other coordinator: it must hold the first to accept it.
  await eventually('the second coordinator to hold ada', () => (c2.ledger.policy.member('ada') ? true : undefined));
  await submit(c2, site.daily, 'member.put', member('cy', 'Cy Young'));

  const converged = await eventually('the same digest', () => {
    const d1 = c1.ledger.digest();
    return d1 === c2.ledger.digest() && c1.ledger.heads()[edge.publicKey] === 5 && !!c1.ledger.policy.member('bob') && !!c1.ledger.policy.member('cy') ? d1 : undefined;
  }, 20_000);
  expect(converged).toMatch(/^[0-9a-f]+$/);
  for (const c of [c1, c2]) {
    expect(c.ledger.heads()[edge.publicKey]).toBe(5);
    expect(['ada', 'bob', 'cy'].map((m) => c.ledger.policy.member(m)?.status)).toEqual(['active', 'active', 'active']);
  }
  // The node holds the rules from both.
  await eventually('the node to hold every member', () => (['ada', 'bob', 'cy'].every((m) => node.ledger.policy.member(m)) ? true : undefined));
  expect(logs.flatMap((l) => l.find({ ev: 'reject' }))).toEqual([]);
}, 60_000);

// DESIGN §10: a coordinator whose disk was lost rebuilds from the nodes' feeds. It starts from
// the genesis in site.json and knows no node yet, so it takes the haves of every client the
// broker authenticated (the coordinator's PubSubSync runs with openPeers).
test('a second coordinator that starts from the genesis alone learns the site from the first', async () => {
  const { site, c1, c2 } = await twoCoordinators('genesis');
  await eventually('the second coordinator to hold the admin feed', () => (c2.ledger.heads()[site.daily.publicKey] === c1.ledger.heads()[site.daily.publicKey] ? true : undefined), 8000);
  await eventually('the same digest', () => (c1.ledger.digest() === c2.ledger.digest() ? true : undefined), 8000);
}, 30_000);
