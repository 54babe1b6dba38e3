/**
 * The embedded broker against Debian's mosquitto clients and MQTT.js (TCP and WebSocket): who
 * gets in, and that a refused publish reaches nobody.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import type { Ledger } from '@keymesh/ledger';
import { encodeEntry, makeLoginToken, topics, type KeyPair } from '@keymesh/protocol';
import { foundedLedger } from '@keymesh/testkit/ledger-fixtures';
import { MOSQUITTO_PUB, MOSQUITTO_SUB, runClient, spawnClient } from '@keymesh/testkit/mosquitto';
import { testKey } from '@keymesh/testkit/site';
import { EmbeddedBroker } from './embedded.js';

const founder = testKey(1);
const nodeA = testKey(30);
const nodeB = testKey(31);
const nodeR = testKey(32);
const stranger = testKey(99);

const opened: Ledger[] = [];
const logLines: string[] = [];
let site: string;
let genesisLine: string;
let ledger: Ledger;
let broker: EmbeddedBroker;
let port: number;
let t: ReturnType<typeof topics>;
const clients: MqttClient[] = [];

beforeAll(async () => {
  const f = foundedLedger(Date.now(), opened);
  site = f.site.site;
  genesisLine = encodeEntry(f.site.genesis);
  ledger = f.ledger;
  t = topics(site);
  ledger.append(founder, 'node.enrol', { node: nodeA.publicKey, name: 'door-a', role: 'edge', resources: [] });
  ledger.append(founder, 'node.enrol', { node: nodeB.publicKey, name: 'door-b', role: 'edge', resources: [] });
  ledger.append(founder, 'node.enrol', { node: nodeR.publicKey, name: 'old-pi', role: 'edge', resources: [] });
  const log = pino({ level: 'debug' }, { write: (s: string) => void logLines.push(s) });
  broker = await EmbeddedBroker.start({ site, policy: () => ledger.policy, log });
  port = await broker.listenTcp(0);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await broker.close();
  for (const l of opened) l.close();
});

function cred(key: KeyPair, clientId: string, now = Date.now()) {
  return makeLoginToken({ clientId, site, now }, key);
}

function args(clientId: string, c: { username: string; password: string } | null, ...rest: string[]): string[] {
  return ['-h', '127.0.0.1', '-p', String(port), '-V', 'mqttv311', '-i', clientId, ...(c ? ['-u', c.username, '-P', c.password] : []), ...rest];
}

/** Resolves when the broker has taken client `id`'s subscription. */
function subscribed(id: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (_subs: unknown, client: { id: string }) => {
      if (client.id !== id) return;
      broker.aedes.off('subscribe', on);
      resolve();
    };
    broker.aedes.on('subscribe', on);
  });
}

async function mqttClient(key: KeyPair, clientId: string, url = `mqtt://127.0.0.1:${port}`): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { clientId, ...cred(key, clientId), protocolVersion: 4, reconnectPeriod: 0 });
  clients.push(c);
  return c;
}

function collect(c: MqttClient): Array<{ topic: string; payload: string; retain: boolean }> {
  const got: Array<{ topic: string; payload: string; retain: boolean }> = [];
  c.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), retain: packet.retain }));
  return got;
}

const refusedBy = (r: { code: number | null; stderr: string }) => r.code !== 0 && /not authori[sz]ed/i.test(r.stderr);

describe('logins', () => {
  it('refuses an anonymous client', async () => {
    const before = broker.stats().loginsRefused.SCHEMA ?? 0;
    const r = await runClient(MOSQUITTO_SUB, args('anon', null, '-t', '#', '-C', '1', '-W', '5'));
    expect(refusedBy(r)).toBe(true);
    expect(broker.stats().loginsRefused.SCHEMA).toBe(before + 1);
  });

  it('refuses made-up credentials: a name and password, and a well-formed token by a key the site does not know', async () => {
    const r1 = await runClient(MOSQUITTO_SUB, args('alice', { username: 'alice', password: 'hunter2' }, '-t', '#', '-C', '1', '-W', '5'));
    expect(refusedBy(r1)).toBe(true);
    const r2 = await runClient(MOSQUITTO_SUB, args('stranger', cred(stranger, 'stranger'), '-t', t.filters.heads, '-C', '1', '-W', '5'));
    expect(refusedBy(r2)).toBe(true);
    expect(broker.stats().loginsRefused.NOT_ALLOWED).toBeGreaterThanOrEqual(1);
    // A token made for another client id does not verify for this one.
    const r3 = await runClient(MOSQUITTO_SUB, args('door-a', cred(nodeA, 'another-id'), '-t', t.filters.heads, '-C', '1', '-W', '5'));
    expect(refusedBy(r3)).toBe(true);
    expect(broker.stats().loginsRefused.BAD_SIGNATURE).toBeGreaterThanOrEqual(1);
  });

  it('accepts a node\'s token, and the node sees the retained heads', async () => {
    const line = genesisLine;
    await broker.bus('coordinator-test').publish(t.head(founder.publicKey), Buffer.from(line), { qos: 1, retain: true });
    const r = await runClient(MOSQUITTO_SUB, args('door-a', cred(nodeA, 'door-a'), '-t', t.filters.heads, '-v', '-C', '1', '-W', '10'));
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`${t.head(founder.publicKey)} ${line}`);
  });

  it('refuses a replayed token and an expired one', async () => {
    const once = cred(nodeA, 'door-a');
    const ok = await runClient(MOSQUITTO_PUB, args('door-a', once, '-t', t.have(nodeA.publicKey), '-m', '{}', '-q', '1'));
    expect(ok.code).toBe(0);
    const replay = await runClient(MOSQUITTO_PUB, args('door-a', once, '-t', t.have(nodeA.publicKey), '-m', '{}', '-q', '1'));
    expect(refusedBy(replay)).toBe(true);
    expect(broker.stats().loginsRefused.REPLAYED).toBe(1);
    const old = cred(nodeA, 'door-a', Date.now() - 6 * 60_000);
    const expired = await runClient(MOSQUITTO_PUB, args('door-a', old, '-t', t.have(nodeA.publicKey), '-m', '{}', '-q', '1'));
    expect(refusedBy(expired)).toBe(true);
    expect(broker.stats().loginsRefused.EXPIRED).toBe(1);
  });

  it('refuses a node retired since its last login (the policy is read at every CONNECT)', async () => {
    const before = await runClient(MOSQUITTO_PUB, args('old-pi', cred(nodeR, 'old-pi'), '-t', t.have(nodeR.publicKey), '-m', '{}', '-q', '1'));
    expect(before.code).toBe(0);
    ledger.append(founder, 'node.retire', { node: nodeR.publicKey, lastSeq: 0, reason: 'replaced' });
    const after = await runClient(MOSQUITTO_PUB, args('old-pi', cred(nodeR, 'old-pi'), '-t', t.have(nodeR.publicKey), '-m', '{}', '-q', '1'));
    expect(refusedBy(after)).toBe(true);
  });

  it('refuses another key logging in under a connected client\'s id (it would push that node off)', async () => {
    const a = await mqttClient(nodeA, 'door-a-held');
    const r = await runClient(MOSQUITTO_PUB, args('door-a-held', cred(nodeB, 'door-a-held'), '-t', t.have(nodeB.publicKey), '-m', '{}'));
    expect(refusedBy(r)).toBe(true);
    expect(broker.stats().loginsRefused.CLIENT_ID_TAKEN).toBe(1);
    expect(a.connected).toBe(true);
    await a.endAsync();
  });

  it('never logs a password', () => {
    const all = logLines.join('\n');
    expect(all).toContain('mqtt-login-refused');
    expect(all).not.toContain('hunter2');
    expect(all).not.toMatch(/"sig"|\\"sig\\"/);
  });
});

describe('publishing', () => {
  it('a node\'s publish to another node\'s feed reaches nobody; its own feed does', async () => {
    const admin = await mqttClient(founder, 'admin-feeds');
    const got = collect(admin);
    await admin.subscribeAsync(t.filters.feeds, { qos: 1 });
    const refusedBefore = broker.stats().publishesRefused;
    await runClient(MOSQUITTO_PUB, args('door-a', cred(nodeA, 'door-a'), '-t', t.feed(nodeB.publicKey), '-m', 'forged', '-q', '1'));
    expect(broker.stats().publishesRefused).toBe(refusedBefore + 1);
    const ok = await runClient(MOSQUITTO_PUB, args('door-a', cred(nodeA, 'door-a'), '-t', t.feed(nodeA.publicKey), '-m', 'own', '-q', '1'));
    expect(ok.code).toBe(0);
    await until(() => got.length > 0);
    expect(got).toEqual([{ topic: t.feed(nodeA.publicKey), payload: 'own', retain: false }]);
  });

  it('a node\'s command reaches nobody; an admin\'s reaches its node alone', async () => {
    const b = spawnClient(MOSQUITTO_SUB, args('door-b', cred(nodeB, 'door-b'), '-t', t.cmd(nodeB.publicKey), '-v', '-C', '1', '-W', '15'));
    await subscribed('door-b');
    await runClient(MOSQUITTO_PUB, args('door-a', cred(nodeA, 'door-a'), '-t', t.cmd(nodeB.publicKey), '-m', 'from-a', '-q', '1'));
    // A retained command is refused too, even from an admin.
    const adminR = await mqttClient(founder, 'admin-retain');
    const closed = new Promise<void>((resolve) => adminR.once('close', () => resolve()));
    adminR.publish(t.cmd(nodeB.publicKey), 'retained', { qos: 1, retain: true });
    await closed;
    const admin = await mqttClient(founder, 'admin-cmd');
    await admin.publishAsync(t.cmd(nodeB.publicKey), 'from-admin', { qos: 1 });
    const r = await b.done;
    expect(r.stdout.trim()).toBe(`${t.cmd(nodeB.publicKey)} from-admin`);
  });

  it('a node may not subscribe to another node\'s commands (SUBACK failure) and receives none', async () => {
    const a = await mqttClient(nodeA, 'door-a-snoop');
    const got = collect(a);
    const refused = await a.subscribeAsync([t.cmd(nodeB.publicKey), `${t.root}/#`, '$SYS/#', t.filters.feeds], { qos: 1 }).then(() => null, (err: { packet?: { granted?: unknown } }) => err.packet?.granted);
    expect(refused).toEqual([128, 128, 128, 1]);
    const admin = await mqttClient(founder, 'admin-cmd-2');
    await admin.publishAsync(t.cmd(nodeB.publicKey), 'not-for-a', { qos: 1 });
    await admin.publishAsync(t.cmd(nodeA.publicKey), 'for-a', { qos: 1 }); // a's own: not subscribed, so not received either
    await a.subscribeAsync(t.cmd(nodeA.publicKey), { qos: 1 });
    await admin.publishAsync(t.cmd(nodeA.publicKey), 'for-a-2', { qos: 1 });
    await until(() => got.length > 0);
    expect(got.map((g) => g.payload)).toEqual(['for-a-2']);
  });

  it('cuts a client that sends a packet over the size limit, before anyone gets it', async () => {
    const admin = await mqttClient(founder, 'admin-size');
    const got = collect(admin);
    await admin.subscribeAsync(t.filters.feeds, { qos: 1 });
    const a = await mqttClient(nodeA, 'door-a-big');
    const closed = new Promise<void>((resolve) => a.once('close', () => resolve()));
    a.publish(t.feed(nodeA.publicKey), Buffer.alloc(broker.maxPacketBytes + 1, 0x61), { qos: 0 });
    await closed;
    expect(broker.stats().packetsTooLarge).toBe(1);
    const small = await mqttClient(nodeA, 'door-a-small');
    await small.publishAsync(t.feed(nodeA.publicKey), 'small', { qos: 1 });
    await until(() => got.length > 0);
    expect(got.map((g) => g.payload)).toEqual(['small']);
  });
});

describe('WebSocket', () => {
  let http: Server;
  afterAll(() => new Promise<void>((resolve) => {
    http.close(() => resolve());
    http.closeAllConnections();
  }));

  it('an MQTT.js client logs in over ws://…/mqtt and receives; a wrong path and a bad token are refused', async () => {
    http = createServer((_req, res) => res.end('plain http'));
    broker.attachWebSocket(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const b = await mqttClient(nodeB, 'door-b-ws', `${url}/mqtt`);
    const got = collect(b);
    await b.subscribeAsync(t.filters.feeds, { qos: 1 });
    const a = await mqttClient(nodeA, 'door-a-tcp');
    await a.publishAsync(t.feed(nodeA.publicKey), 'over-ws', { qos: 1 });
    await until(() => got.length > 0);
    expect(got[0]).toEqual({ topic: t.feed(nodeA.publicKey), payload: 'over-ws', retain: false });
    await b.endAsync();
    await expect(mqtt.connectAsync(`${url}/other`, { clientId: 'x', ...cred(nodeB, 'x'), reconnectPeriod: 0, connectTimeout: 3000 })).rejects.toThrow();
    await expect(mqtt.connectAsync(`${url}/mqtt`, { clientId: 'y', username: nodeB.publicKey, password: '{"ts":1,"sig":"00"}', reconnectPeriod: 0, connectTimeout: 3000 })).rejects.toThrow(/Not authorized/i);
  });
});

describe('hostile input', () => {
  it('survives garbage, a huge announced CONNECT and a half-sent packet, and serves the next client', async () => {
    const send = (bytes: number[]) => new Promise<void>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.write(Buffer.from(bytes)));
      s.on('close', () => resolve());
      s.on('error', () => undefined);
      setTimeout(() => s.destroy(), 500);
    });
    const tooLarge = broker.stats().packetsTooLarge;
    await send([0xff, 0xff, 0xff, 0xff, 0xff, 0x00]); // not MQTT at all
    await send([0x10, 0xff, 0xff, 0xff, 0x7f]); // a CONNECT announcing 256 MB
    await send([0x10, 0x20, 0x00, 0x04, 0x4d]); // a CONNECT cut short
    expect(broker.stats().packetsTooLarge).toBeGreaterThan(tooLarge);
    const r = await runClient(MOSQUITTO_PUB, args('door-a', cred(nodeA, 'door-a'), '-t', t.have(nodeA.publicKey), '-m', '{}', '-q', '1'));
    expect(r.code).toBe(0);
  });

  it('refuses logins while the policy cannot be read, and stays up', async () => {
    let broken = true;
    const b = await EmbeddedBroker.start({ site, policy: () => {
      if (broken) throw new Error('ledger closed');
      return ledger.policy;
    }, log: pino({ level: 'silent' }) });
    try {
      const p = await b.listenTcp(0);
      const login = (id: string) => runClient(MOSQUITTO_PUB, ['-h', '127.0.0.1', '-p', String(p), '-V', 'mqttv311', '-i', id, '-u', nodeA.publicKey, '-P', cred(nodeA, id).password, '-t', t.have(nodeA.publicKey), '-m', '{}', '-q', '1']);
      expect(refusedBy(await login('door-a'))).toBe(true);
      expect(b.stats().loginsRefused.POLICY_UNAVAILABLE).toBe(1);
      broken = false;
      expect((await login('door-a')).code).toBe(0);
    } finally {
      await b.close();
    }
  });
});

describe('rate', () => {
  it('disconnects a client over its message rate; the messages past it reach nobody', async () => {
    const now = Date.now();
    const log = pino({ level: 'silent' });
    const slow = await EmbeddedBroker.start({ site, policy: () => ledger.policy, log, now: () => now, rate: { perSecond: 1, burst: 5 } });
    try {
      const p = await slow.listenTcp(0);
      const url = `mqtt://127.0.0.1:${p}`;
      const got: string[] = [];
      await slow.bus('coordinator').subscribe(t.filters.feeds, (m) => got.push(Buffer.from(m.payload).toString()));
      const c = await mqtt.connectAsync(url, { clientId: 'door-a', ...makeLoginToken({ clientId: 'door-a', site, now }, nodeA), protocolVersion: 4, reconnectPeriod: 0 });
      const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
      for (let i = 0; i < 8; i++) c.publish(t.feed(nodeA.publicKey), `m${i}`, { qos: 0 });
      await closed;
      await c.endAsync(true);
      expect(slow.stats().rateLimited).toBeGreaterThanOrEqual(1);
      expect(got).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    } finally {
      await slow.close();
    }
  });
});

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
  // Let anything that would arrive with it arrive too.
  await new Promise((r) => setTimeout(r, 100));
}
