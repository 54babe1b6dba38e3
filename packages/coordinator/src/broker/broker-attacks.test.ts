/**
 * A malicious enrolled node against the embedded broker's memory: persistent sessions under
 * many client ids (each would keep its subscriptions and a queue of every matching QoS 1
 * message after it left) and one connection subscribing to thousands of distinct allowed
 * filters. Each is refused; the broker keeps serving the node's allowed traffic.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import type { Ledger } from '@keymesh/ledger';
import { makeLoginToken, topics, type KeyPair } from '@keymesh/protocol';
import { foundedLedger } from '@keymesh/testkit/ledger-fixtures';
import { testKey } from '@keymesh/testkit/site';
import { EmbeddedBroker } from './embedded.js';
import { MAX_SUBSCRIPTIONS_PER_CLIENT } from './authorize.js';

const founder = testKey(1);
const nodeA = testKey(30);
const opened: Ledger[] = [];
const clients: MqttClient[] = [];
let site: string;
let broker: EmbeddedBroker;
let port: number;
let t: ReturnType<typeof topics>;

beforeAll(async () => {
  const f = foundedLedger(Date.now(), opened);
  site = f.site.site;
  t = topics(site);
  f.ledger.append(founder, 'node.enrol', { node: nodeA.publicKey, name: 'door-a', role: 'edge', resources: [] });
  broker = await EmbeddedBroker.start({ site, policy: () => f.ledger.policy, log: pino({ level: 'silent' }) });
  port = await broker.listenTcp(0);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await broker.close();
  for (const l of opened) l.close();
});

function connect(key: KeyPair, clientId: string, clean = true): Promise<MqttClient> {
  const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId, ...makeLoginToken({ clientId, site, now: Date.now() }, key), protocolVersion: 4, reconnectPeriod: 0, clean });
  clients.push(c);
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

/** The SUBACK's codes (MQTT.js rejects a SUBACK holding a failure, with the packet). */
async function grants(c: MqttClient, filters: string | string[]): Promise<number[]> {
  try {
    return (await c.subscribeAsync(filters, { qos: 1 })).map((g) => g.qos);
  } catch (err) {
    const granted = (err as { packet?: { granted?: number[] } }).packet?.granted;
    if (!granted) throw err;
    return granted;
  }
}

/** A key made of `i`: a distinct, allowed `feed/<key>` filter for a node. */
const fakeKey = (i: number) => i.toString(16).padStart(64, '0');

describe('broker: what one enrolled node may not make it keep', () => {
  it('refuses a persistent session (clean session off); nothing of it is kept', async () => {
    await expect(connect(nodeA, 'door-a-persistent', false)).rejects.toThrow(/not authori[sz]ed/i);
    expect(broker.stats().loginsRefused.PERSISTENT_SESSION).toBe(1);
    const persistence = (broker.aedes as unknown as { persistence: { subscriptionsByClient(c: { id: string }): Promise<unknown[]> } }).persistence;
    expect(await persistence.subscriptionsByClient({ id: 'door-a-persistent' })).toEqual([]);
    // The same node with a clean session gets in.
    const c = await connect(nodeA, 'door-a-clean');
    expect(c.connected).toBe(true);
    await c.endAsync();
  });

  it(`grants at most ${MAX_SUBSCRIPTIONS_PER_CLIENT} filters to one connection; the client stays and its first filters work`, async () => {
    const c = await connect(nodeA, 'door-a-subs');
    const filters = Array.from({ length: MAX_SUBSCRIPTIONS_PER_CLIENT + 50 }, (_, i) => t.feed(fakeKey(i + 1)));
    const before = broker.stats().subscribesRefused;
    const granted = await grants(c, filters);
    expect(granted.slice(0, MAX_SUBSCRIPTIONS_PER_CLIENT).every((q) => q === 1)).toBe(true);
    expect(granted.filter((q) => q === 128)).toHaveLength(50);
    expect(broker.stats().subscribesRefused).toBe(before + 50);
    // Resubscribing to a filter it holds is no new one; after an unsubscribe there is room again.
    expect(await grants(c, filters[0]!)).toEqual([1]);
    await c.unsubscribeAsync(filters[1]!);
    expect(await grants(c, filters[MAX_SUBSCRIPTIONS_PER_CLIENT + 10]!)).toEqual([1]);
    expect(await grants(c, filters[MAX_SUBSCRIPTIONS_PER_CLIENT + 11]!)).toEqual([128]);
    const got = new Promise<string>((resolve) => c.on('message', (topic) => resolve(topic)));
    await broker.bus('coordinator-attacks').publish(filters[0]!, Buffer.from('x'), { qos: 1 });
    expect(await got).toBe(filters[0]);
    expect(c.connected).toBe(true);
  });
});
