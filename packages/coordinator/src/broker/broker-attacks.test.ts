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
let f: ReturnType<typeof foundedLedger>;
let broker: EmbeddedBroker;
let port: number;
let t: ReturnType<typeof topics>;

beforeAll(async () => {
  f = foundedLedger(Date.now(), opened);
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

  it('a client cut for its rate comes back with the bucket it left, not a full one', async () => {
    const now = Date.now(); // a clock that stands still: nothing refills
    const slow = await EmbeddedBroker.start({ site, policy: () => f.ledger.policy, log: pino({ level: 'silent' }), now: () => now, rate: { perSecond: 1, burst: 5 } });
    try {
      const url = `mqtt://127.0.0.1:${await slow.listenTcp(0)}`;
      const got: string[] = [];
      await slow.bus('coordinator-rate').subscribe(t.filters.feeds, (m) => got.push(Buffer.from(m.payload).toString()));
      /** Publishes `n` messages, then one at QoS 1: 'cut' if the broker closes the client first, else 'served'. */
      const flood = async (clientId: string, n: number): Promise<'cut' | 'served'> => {
        const c = await mqtt.connectAsync(url, { clientId, ...makeLoginToken({ clientId, site, now }, nodeA), protocolVersion: 4, reconnectPeriod: 0 });
        clients.push(c);
        const closed = new Promise<'cut'>((resolve) => c.once('close', () => resolve('cut')));
        for (let i = 0; i < n; i++) c.publish(t.feed(nodeA.publicKey), `${clientId}-${i}`, { qos: 0 });
        return Promise.race([closed, c.publishAsync(t.feed(nodeA.publicKey), `${clientId}-last`, { qos: 1 }).then(() => 'served' as const, () => 'cut' as const)]);
      };
      expect(await flood('door-a-1', 8)).toBe('cut');
      expect(await flood('door-a-2', 0)).toBe('cut');
      expect(got).toEqual(['door-a-1-0', 'door-a-1-1', 'door-a-1-2', 'door-a-1-3', 'door-a-1-4']);
      expect(slow.stats().rateLimited).toBe(2);
    } finally {
      await slow.close();
    }
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
