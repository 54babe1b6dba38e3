// MqttJsBus over a client that reconnects by itself (reconnectPeriod 0, client.reconnect(): the
// edge agent, a fresh login token each attempt): it may subscribe while the broker is down, and
// a broker that comes back with no session (restarted) delivers to it again.
import { afterEach, expect, test } from '@jest/globals';
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { MqttJsBus } from './mqttjs.js';

interface Broker { close(): Promise<void> }
const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

/** An aedes broker on `port` (0: any); a fresh one on the same port is a restarted broker. */
async function broker(port: number): Promise<Broker & { port: number }> {
  const b = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server: Server = createServer({ noDelay: true }, (s) => (sockets.add(s), s.on('close', () => sockets.delete(s)), b.handle(s)));
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const h = {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => b.close(() => r()));
    },
  };
  return h;
}

const once = (c: MqttClient, ev: 'connect' | 'close') => new Promise<void>((r) => c.once(ev, () => r()));

async function heard(bus: MqttJsBus): Promise<string[]> {
  const got: string[] = [];
  await bus.subscribe('t/#', (m) => got.push(Buffer.from(m.payload).toString()));
  return got;
}

test('subscribes with the broker down, and again after the broker restarts', async () => {
  const first = await broker(0);
  const port = first.port;
  await first.close(); // nobody listens on the port now
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: 'edge', protocolVersion: 4, reconnectPeriod: 0, clean: true });
  open.push({ close: () => client.endAsync(true) });
  const bus = new MqttJsBus(client);
  await once(client, 'close'); // the first attempt failed
  const got = await heard(bus); // resolves: made on the next connection

  // Retained, published before the bus connects: it arrives only through a subscription made on connection.
  const publish = async (text: string) => {
    const p = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `pub-${text}`, protocolVersion: 4, reconnectPeriod: 0 });
    await p.publishAsync('t/x', text, { qos: 1, retain: true });
    await p.endAsync();
  };
  const until = async (n: number) => {
    for (let i = 0; i < 200 && got.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  };

  let b = await broker(port);
  await publish('one');
  let up = once(client, 'connect');
  client.reconnect();
  await up;
  await until(1);
  expect(got).toEqual(['one']);

  // The broker restarts: no session survives; the caller reconnects by itself.
  const down = once(client, 'close');
  await b.close();
  await down;
  b = await broker(port);
  open.push(b);
  await publish('two');
  up = once(client, 'connect');
  client.reconnect();
  await up;
  await until(2);
  expect(got).toEqual(['one', 'two']);
});
