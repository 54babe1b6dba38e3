/** The coordinator's in-process Bus against an MQTT.js node on TCP: both ways, live and retained. */
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import type { BusMessage, Ledger } from '@keymesh/ledger';
import { makeLoginToken, topics } from '@keymesh/protocol';
import { foundedLedger } from '@keymesh/testkit/ledger-fixtures';
import { testKey } from '@keymesh/testkit/site';
import { EmbeddedBroker } from './embedded.js';

const founder = testKey(1);
const node = testKey(30);
const opened: Ledger[] = [];
let broker: EmbeddedBroker;
let client: MqttClient;
let site: string;
let port: number;
let t: ReturnType<typeof topics>;

beforeAll(async () => {
  const f = foundedLedger(Date.now(), opened);
  site = f.site.site;
  t = topics(site);
  f.ledger.append(founder, 'node.enrol', { node: node.publicKey, name: 'door', role: 'edge', resources: [] });
  broker = await EmbeddedBroker.start({ site, policy: () => f.ledger.policy, log: pino({ level: 'silent' }) });
  port = await broker.listenTcp(0);
  client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'door', ...makeLoginToken({ clientId: 'door', site }, node), protocolVersion: 4, reconnectPeriod: 0 });
});

afterAll(async () => {
  await client.endAsync(true);
  await broker.close();
  for (const l of opened) l.close();
});

const text = (m: BusMessage) => Buffer.from(m.payload).toString();

async function until(cond: () => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

it('receives a client\'s live publish (retain false) and its retained one on a later subscribe (retain true)', async () => {
  const bus = broker.bus('coordinator-1');
  expect(bus.connected).toBe(true);
  const live: BusMessage[] = [];
  await bus.subscribe(t.filters.feeds, (m) => live.push(m));
  await client.publishAsync(t.feed(node.publicKey), 'entry-1', { qos: 1 });
  await client.publishAsync(t.head(node.publicKey), 'head-1', { qos: 1, retain: true });
  await until(() => live.length === 1);
  expect(live.map((m) => [m.topic, text(m), m.retain])).toEqual([[t.feed(node.publicKey), 'entry-1', false]]);
  const heads: BusMessage[] = [];
  await bus.subscribe(t.filters.heads, (m) => heads.push(m));
  expect(heads.map((m) => [m.topic, text(m), m.retain])).toEqual([[t.head(node.publicKey), 'head-1', true]]);
});

it('publishes to a client: live, retained (delivered on its subscribe), and a command to its node', async () => {
  const bus = broker.bus('coordinator-2');
  const got: Array<[string, string, boolean]> = [];
  client.on('message', (topic, payload, packet) => got.push([topic, payload.toString(), packet.retain]));
  await bus.publish(t.head(founder.publicKey), Buffer.from('founder-head'), { qos: 1, retain: true });
  await client.subscribeAsync([t.filters.heads, t.cmd(node.publicKey), t.filters.wantsTo(node.publicKey)], { qos: 1 });
  await bus.publish(t.cmd(node.publicKey), Buffer.from('unlock'), { qos: 1 });
  await bus.publish(t.want(founder.publicKey, node.publicKey), Buffer.from('want'), { qos: 0 });
  await until(() => got.length >= 4);
  expect(got).toEqual(expect.arrayContaining([
    [t.head(founder.publicKey), 'founder-head', true],
    [t.head(node.publicKey), 'head-1', true],
    [t.cmd(node.publicKey), 'unlock', false],
    [t.want(founder.publicKey, node.publicKey), 'want', false],
  ]));
  expect(got).toHaveLength(4);
  client.removeAllListeners('message');
});

it('ends a subscription with its last handler, isolates a throwing handler, and refuses bad names', async () => {
  const bus = broker.bus('coordinator-3');
  const a: string[] = [];
  const b: string[] = [];
  const ha = (m: BusMessage) => a.push(text(m));
  const hb = (m: BusMessage) => {
    b.push(text(m));
    throw new Error('handler bug');
  };
  await bus.subscribe(t.filters.haves, ha);
  await bus.subscribe(t.filters.haves, hb);
  await client.publishAsync(t.have(node.publicKey), 'h1', { qos: 1 });
  await until(() => a.length === 1 && b.length === 1);
  await bus.unsubscribe(t.filters.haves, hb);
  await client.publishAsync(t.have(node.publicKey), 'h2', { qos: 1 });
  await until(() => a.length === 2);
  await bus.unsubscribe(t.filters.haves, ha);
  await client.publishAsync(t.have(node.publicKey), 'h3', { qos: 1 });
  await bus.publish(t.have(founder.publicKey), Buffer.from('marker'));
  expect(a).toEqual(['h1', 'h2']);
  expect(b).toEqual(['h1']);
  await expect(bus.publish(`${t.root}/feed/+`, Buffer.from('x'))).rejects.toThrow(/not a topic/);
  await expect(bus.subscribe(`${t.root}/#/x`, ha)).rejects.toThrow(/not a topic filter/);
});

it('a root wildcard does not match $SYS; no client may log in under the bus\'s client id', async () => {
  const bus = broker.bus('coordinator-4');
  const all: string[] = [];
  await bus.subscribe('#', (m) => void (m.retain || all.push(m.topic))); // the retained heads of the tests above come first
  await bus.publish('$SYS/test', Buffer.from('x'));
  await bus.publish(t.have(founder.publicKey), Buffer.from('y'));
  await until(() => all.length > 0);
  expect(all).toEqual([t.have(founder.publicKey)]);
  await expect(mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'coordinator-4', ...makeLoginToken({ clientId: 'coordinator-4', site }, node), protocolVersion: 4, reconnectPeriod: 0 })).rejects.toThrow(/Not authorized/i);
  expect(broker.stats().loginsRefused.CLIENT_ID_TAKEN).toBe(1);
});

it('is disconnected when the broker closes: listeners hear it, publishes reject', async () => {
  const other = await EmbeddedBroker.start({ site, policy: () => ({ admins: () => undefined, node: () => undefined }), log: pino({ level: 'silent' }) });
  const bus = other.bus('c');
  const heard: boolean[] = [];
  bus.onConnection((up) => heard.push(up));
  await other.close();
  expect(bus.connected).toBe(false);
  expect(heard).toEqual([false]);
  await expect(bus.publish(t.have(founder.publicKey), Buffer.from('x'))).rejects.toThrow(/closed/);
});
