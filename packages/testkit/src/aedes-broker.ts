/**
 * A real aedes broker in process, on a TCP port of the loopback interface, for tests that need
 * a broker a real MQTT client talks to. `noDelay` on every socket (else each QoS 1 round trip
 * waits ~40 ms for Nagle) and a `drainTimeout`, so one frozen client cannot stall the rest.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes, type AedesOptions } from 'aedes';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export interface AedesHandle {
  broker: Aedes;
  server: Server;
  url: string;
  /** An MQTT.js client of this broker, connected (resolves on CONNACK). */
  connect(clientId: string, opts?: IClientOptions): Promise<MqttClient>;
  /** Drops every client's socket at once (a network cut); clients reconnect by themselves. */
  cutAll(): void;
  close(): Promise<void>;
}

export async function startAedes(opts: Partial<AedesOptions> = {}): Promise<AedesHandle> {
  const broker = await Aedes.createBroker({ drainTimeout: 5000, ...opts });
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: MqttClient[] = [];
  return {
    broker,
    server,
    url,
    async connect(clientId, o = {}) {
      const c = await mqtt.connectAsync(url, { clientId, protocolVersion: 4, reconnectPeriod: 50, ...o });
      clients.push(c);
      return c;
    },
    cutAll() {
      for (const s of sockets) s.destroy();
    },
    async close() {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
