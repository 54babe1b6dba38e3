// Hostile input to a running coordinator (DESIGN §10: a clear reason, nothing else changes), in
// process so its log and ledger can be read: an enrolled node's client publishes malformed
// JSON, a wrong-schema entry, a forged signature, another site's entry and an oversized
// payload; an admin's client a retained command. Each is refused with its reason in the log
// (and, for entries that reach the ledger, in /api/quarantine); the coordinator keeps serving,
// its digest unchanged, and the node's valid entries still get through.
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { Ledger } from '@keymesh/ledger';
import { canonicalString, createSite, generateKeyPair, makeLoginToken, nextEntry, topics, type KeyPair, type ProvisioningFile } from '@keymesh/protocol';
import { Coordinator, dataPaths, initSite, readSite } from '@keymesh/coordinator';
import { eventually } from '@keymesh/testkit/processes';
import { tempDir } from '@keymesh/testkit/temp-files';
import { capturedLog } from './captured-log.js';
import { startMqttNode } from './mqtt-node.js';

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
});

const decision = (at: number) => ({ resource: 'front-door', credential: { kind: 'card' as const, card: 'ab'.repeat(16) }, allow: true, reason: 'ALLOWED' as const, member: 'ada', at });

test('malformed, wrong-schema, forged, foreign, oversized and retained-command input is refused with a reason; the feed keeps flowing', async () => {
  const root = tempDir('km-bad-');
  const data = join(root, 'data');
  const site = initSite({ name: 'Hostile Space', data, keysDir: join(root, 'keys') });
  const node = generateKeyPair();
  const ledger = Ledger.open(dataPaths(data).ledger, { site: site.site });
  try {
    ledger.append(site.daily, 'resource.put', { resource: 'front-door', name: 'Front door', kind: 'door', requiredCerts: [], schedule: null, unlockSeconds: 5, idleTimeoutSeconds: null, maxStaleHours: null, risk: 'normal' });
    ledger.append(site.daily, 'node.enrol', { node: node.publicKey, name: 'front-pi', role: 'edge', resources: ['front-door'] });
  } finally {
    ledger.close();
  }
  const cap = capturedLog();
  const c = await Coordinator.start({ data, mqttPort: 0, httpPort: 0, host: '127.0.0.1', syncIntervalMs: 300, log: cap.log });
  cleanup.push(() => c.stop());
  const http = `http://127.0.0.1:${c.httpPort}`;
  const url = `mqtt://127.0.0.1:${c.mqttPort}`;
  const t = topics(site.site);
  const feed = t.feed(node.publicKey);
  const connect = async (clientId: string, key: KeyPair): Promise<MqttClient> => {
    const client = await mqtt.connectAsync(url, { clientId, ...makeLoginToken({ clientId, site: site.site }, key), protocolVersion: 4, reconnectPeriod: 0 });
    cleanup.push(() => client.endAsync(true));
    return client;
  };
  const closed = (client: MqttClient) => eventually(`${client.options.clientId} disconnected`, () => (client.connected ? undefined : true), 10_000);
  const digest = c.ledger.digest();
  const count = c.ledger.count();

  const bad = await connect('bad-pi', node);
  // Malformed JSON and a wrong-schema envelope: dropped by the sync before the ledger.
  await bad.publishAsync(feed, '{"not json', { qos: 1 });
  await bad.publishAsync(feed, canonicalString({ author: node.publicKey, seq: 'one', type: 'access.decision' }), { qos: 1 });
  // A forged signature (seq 1: the next one, so it is stored with its run and checked there).
  const valid = nextEntry(null, 'access.decision', decision(Date.now()), node, { site: site.site });
  const sig = valid.entry.sig;
  const forged = valid.wire.replace(sig, (sig[0] === '0' ? '1' : '0') + sig.slice(1));
  await bad.publishAsync(feed, forged, { qos: 1 });
  // Validly signed by the enrolled node, for another site.
  const other = createSite({ name: 'Elsewhere' });
  await bad.publishAsync(feed, nextEntry(null, 'access.decision', decision(Date.now()), node, { site: other.site }).wire, { qos: 1 });

  const invalid = await eventually('both drops logged', () => {
    const l = cap.find({ ev: 'invalid', topic: feed });
    return l.length >= 2 ? l.map((x) => String(x.reason)) : undefined;
  });
  expect(invalid[0]).toMatch(/feed payload is not an entry.*JSON/i);
  expect(invalid[1]).toMatch(/feed payload is not an entry.*seq/);
  const codes = await eventually('the quarantine to hold both', async () => {
    const q = (await (await fetch(`${http}/api/quarantine`)).json()) as { quarantine: Array<{ code: string; reason: string; author: string | null }> };
    return q.quarantine.length >= 2 ? q.quarantine : undefined;
  });
  expect(codes.map((q) => q.code).sort()).toEqual(['BAD_SIGNATURE', 'WRONG_SITE']);
  expect(codes.every((q) => q.reason.length > 0 && q.author === node.publicKey)).toBe(true);
  expect(cap.find({ ev: 'reject' }).map((l) => l.code).sort()).toEqual(['BAD_SIGNATURE', 'WRONG_SITE']);
  expect(bad.connected).toBe(true); // content the ACL allows costs the client nothing but the entry

  // An oversized payload: the broker cuts the connection at the packet's header.
  const big = await connect('big-pi', node);
  big.publish(feed, Buffer.alloc(300 * 1024, 0x41), { qos: 0 });
  await closed(big);
  await eventually('the cut logged', () => (cap.find({ ev: 'mqtt-packet-too-large' }).length ? true : undefined));

  // An admin's retained command: refused, the admin's client disconnected.
  const admin = await connect('admin-cli', site.daily);
  admin.publish(t.cmd(node.publicKey), '{"cmd":"unlock"}', { qos: 1, retain: true });
  await closed(admin);
  const refusal = await eventually('the refusal logged', () => cap.find({ ev: 'mqtt-publish-refused', kind: 'admin' })[0]);
  expect(refusal).toMatchObject({ retain: true, topic: t.cmd(node.publicKey), reason: expect.any(String) });

  // Still serving, and nothing changed.
  expect(await (await fetch(`${http}/healthz`)).json()).toMatchObject({ ok: true });
  expect(c.ledger.digest()).toBe(digest);
  expect(c.ledger.count()).toBe(count);
  expect(c.ledger.heads()[node.publicKey]).toBeUndefined();
  const status = (await (await fetch(`${http}/api/status`)).json()) as { quarantine: number };
  expect(status.quarantine).toBe(2);

  // The node's valid entries still get through: its feed did not stall on the refused seq 1.
  const prov = { site: site.site, genesis: readSite(dataPaths(data)).genesis, broker: { url }, coordinators: [c.key.publicKey] } as unknown as ProvisioningFile;
  const good = await startMqttNode({ prov, key: node, dir: root, clientId: 'good-pi' });
  cleanup.push(() => good.close());
  good.decide('front-door', 2);
  await eventually('the valid entries stored', () => (c.ledger.heads()[node.publicKey] === 2 ? true : undefined));
  expect(c.ledger.accessLog({ resource: 'front-door' }).rows).toHaveLength(2);
}, 60_000);
