/**
 * The embedded MQTT broker (aedes; DESIGN §2, §3, §7): TCP with `noDelay`, MQTT over WebSocket
 * on the HTTP server's `/mqtt`, logins by login token (authenticate.ts), every publish,
 * subscription and delivery checked against acl.ts (authorize.ts), a packet size limit
 * (packet-size.ts), a per-client message rate (rate-limit.ts), and a drain timeout so one
 * frozen client cannot stall delivery to everyone. The coordinator's own sync talks to it in
 * process (`bus()`).
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Aedes, type Client } from 'aedes';
import type { Logger } from 'pino';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import { loginReplayCache, MIN_SYNC_MESSAGE_BYTES } from '@keymesh/protocol';
import type { Bus } from '@keymesh/ledger';
import { siteAcl, type SiteAcl } from './acl.js';
import { decideLogin, loggableUser, type BrokerLoginRefusal, type BrokerPolicy } from './authenticate.js';
import { authorizeHooks, type AuthorizeCounters, type ClientState } from './authorize.js';
import { InProcessBus } from './in-process-bus.js';
import { limitPacketSize } from './packet-size.js';
import { DEFAULT_RATE, TokenBucket, type RateOptions } from './rate-limit.js';
import { CoordinatorError } from '../errors.js';

/** Room for the sync's batches (at least MIN_SYNC_MESSAGE_BYTES, 128 KiB by default) and 64 KiB blob parts, with their MQTT headers. */
export const DEFAULT_MAX_PACKET_BYTES = 256 * 1024;
export const DEFAULT_DRAIN_TIMEOUT_MS = 5_000;

export interface EmbeddedBrokerOptions {
  /** The site id (the genesis hash). */
  site: string;
  /** The site's policy as it is now (pass `() => ledger.policy`); read at every CONNECT. */
  policy: () => BrokerPolicy;
  log: Logger;
  /** Clock (ms) for logins and rates; default Date.now. */
  now?: () => number;
  /** Largest MQTT packet a client may send, header included (default 256 KiB). */
  maxPacketBytes?: number;
  /** Per client (default 5,000 messages a second, bursts of 20,000). */
  rate?: RateOptions;
  /** A client whose socket takes no data for this long is disconnected (default 5,000 ms). */
  drainTimeoutMs?: number;
}

export interface BrokerStats {
  clients: number;
  /** Refused logins by refusal code (protocol LOGIN_REFUSALS and the broker's own). */
  loginsRefused: Record<string, number>;
  publishesRefused: number;
  subscribesRefused: number;
  rateLimited: number;
  packetsTooLarge: number;
}

export class EmbeddedBroker {
  private readonly acl: SiteAcl;
  private readonly states = new WeakMap<Client, ClientState>();
  /** Client id → the key connected under it (the in-process buses' ids are reserved). */
  private readonly holders = new Map<string, { key: string; client: Client | null }>();
  private readonly counters: AuthorizeCounters = { publishesRefused: 0, subscribesRefused: 0, rateLimited: 0 };
  private readonly loginsRefused: Record<string, number> = {};
  /**
   * Message rates per key, not per connection: a client cut for flooding would otherwise come
   * back at once with a fresh login token and a full bucket. Only keys that logged in are here
   * (enrolled nodes and admins), so the map stays small.
   */
  private readonly buckets = new Map<string, TokenBucket>();
  private packetsTooLarge = 0;
  private readonly servers = new Set<Server>();
  private readonly sockets = new Set<Socket>();
  private readonly buses = new Set<InProcessBus>();
  private readonly detach: Array<() => void> = [];
  private closing: Promise<void> | null = null;
  readonly maxPacketBytes: number;

  private constructor(readonly aedes: Aedes, private readonly o: EmbeddedBrokerOptions, readonly startedAt: number) {
    this.acl = siteAcl(o.site);
    this.maxPacketBytes = o.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
  }

  static async start(o: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
    const max = o.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
    if (!Number.isSafeInteger(max) || max < MIN_SYNC_MESSAGE_BYTES + 1024) {
      throw new CoordinatorError('BAD_CONFIG', `maxPacketBytes ${max} is too small: the sync's batches need at least ${MIN_SYNC_MESSAGE_BYTES + 1024} bytes.`);
    }
    const now = o.now ?? Date.now;
    const seen = loginReplayCache();
    const aedes = await Aedes.createBroker({ drainTimeout: o.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS });
    const b = new EmbeddedBroker(aedes, o, now());
    const hooks = authorizeHooks({ acl: b.acl, clients: b.states, counters: b.counters, log: o.log, now });
    aedes.authorizePublish = hooks.authorizePublish;
    aedes.authorizeSubscribe = hooks.authorizeSubscribe;
    aedes.authorizeForward = hooks.authorizeForward;
    aedes.authenticate = (client, username, password, done) => {
      const d = decideLogin({
        clientId: client.id, username, password, site: o.site, now: now(), startedAt: b.startedAt, seen,
        policy: o.policy, holderOf: (id) => b.holders.get(id)?.key, persistent: client.clean === false,
      });
      if (!d.ok) {
        b.refuseLogin(d.code);
        o.log.warn({ ev: 'mqtt-login-refused', code: d.code, clientId: client.id.slice(0, 128), user: loggableUser(username), reason: d.reason }, 'MQTT login refused');
        return done(Object.assign(new Error(d.reason), { returnCode: 5 as const }), null);
      }
      let bucket = b.buckets.get(d.principal.key);
      if (!bucket) b.buckets.set(d.principal.key, (bucket = new TokenBucket(o.rate ?? DEFAULT_RATE, now())));
      b.states.set(client, { principal: d.principal, bucket, rateLogged: false, filters: new Set() });
      b.holders.set(client.id, { key: d.principal.key, client });
      o.log.info({ ev: 'mqtt-login', clientId: client.id, key: d.principal.key, kind: d.principal.kind }, 'MQTT client logged in');
      done(null, true);
    };
    aedes.on('unsubscribe', (filters, client) => {
      const st = client ? b.states.get(client) : undefined;
      if (st) for (const f of filters) st.filters.delete(f);
    });
    aedes.on('clientDisconnect', (client) => {
      if (b.holders.get(client.id)?.client === client) b.holders.delete(client.id);
    });
    aedes.on('clientError', (client, err) => o.log.debug({ ev: 'mqtt-client-error', clientId: client.id, err: err.message }, 'MQTT client closed on error'));
    return b;
  }

  /** Listens for MQTT on TCP; resolves with the bound port (0 picks a free one). */
  async listenTcp(port: number, host: '127.0.0.1' | '0.0.0.0' | string = '127.0.0.1'): Promise<number> {
    const server = createServer({ noDelay: true }, (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      this.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE'
        ? new CoordinatorError('PORT_IN_USE', `MQTT port ${port} on ${host} is in use; stop what holds it or choose another with --mqtt-port.`, { port })
        : err));
      server.listen(port, host, resolve);
    });
    server.on('error', (err) => this.o.log.error({ ev: 'mqtt-listener-error', err: err.message }, 'MQTT listener error'));
    this.servers.add(server);
    return (server.address() as AddressInfo).port;
  }

  /** MQTT over WebSocket on `path` of an HTTP server (the dashboard's connection); other upgrades are left alone. */
  attachWebSocket(server: HttpServer, path = '/mqtt'): void {
    // A WebSocket message may carry several MQTT packets (browsers' MQTT.js batches them); the
    // packet limit itself is enforced on the stream.
    const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * this.maxPacketBytes });
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      let pathname: string;
      try {
        pathname = new URL(req.url ?? '/', 'http://x').pathname;
      } catch {
        pathname = '';
      }
      if (pathname !== path) {
        if (server.listenerCount('upgrade') === 1) socket.destroy(); // nobody else will answer it
        return;
      }
      if (this.closing) return void socket.destroy();
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        const stream = createWebSocketStream(ws);
        stream.on('error', () => undefined); // the client reports it; a reset socket is no crash
        this.handle(stream, req);
      });
    };
    server.on('upgrade', onUpgrade);
    this.detach.push(() => {
      server.off('upgrade', onUpgrade);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    });
  }

  /** The coordinator's own Bus onto this broker (in process; no login, no client hooks). */
  bus(clientId: string): Bus {
    const bus = new InProcessBus(this.aedes, clientId, (err, topic) => this.o.log.warn({ ev: 'bus-handler-error', topic, err: (err as Error)?.message ?? String(err) }, 'a bus handler threw'));
    // Its client id is reserved: no MQTT client may log in under it.
    this.holders.set(clientId, { key: '(in process)', client: null });
    this.buses.add(bus);
    return bus;
  }

  stats(): BrokerStats {
    return {
      clients: this.aedes.connectedClients,
      loginsRefused: { ...this.loginsRefused },
      publishesRefused: this.counters.publishesRefused,
      subscribesRefused: this.counters.subscribesRefused,
      rateLimited: this.counters.rateLimited,
      packetsTooLarge: this.packetsTooLarge,
    };
  }

  /** Ends the MQTT-over-WebSocket connections and stops taking new ones: an upgraded socket would hold the HTTP server's close open (idempotent). */
  closeWebSockets(): void {
    for (const d of this.detach.splice(0)) d();
  }

  /** Stops listening, disconnects every client and closes the broker (idempotent). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const bus of this.buses) bus.down();
      for (const d of this.detach.splice(0)) d();
      const closed = [...this.servers].map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
      for (const s of this.sockets) s.destroy();
      await Promise.all(closed);
    })();
    return this.closing;
  }

  private handle(conn: Duplex, req?: IncomingMessage): void {
    limitPacketSize(conn, this.maxPacketBytes, () => {
      this.packetsTooLarge++;
      this.o.log.warn({ ev: 'mqtt-packet-too-large', clientId: (conn as Duplex & { client?: Client }).client?.id ?? null, max: this.maxPacketBytes }, 'MQTT packet over the size limit: connection closed');
    });
    this.aedes.handle(conn, req);
  }

  private refuseLogin(code: BrokerLoginRefusal): void {
    this.loginsRefused[code] = (this.loginsRefused[code] ?? 0) + 1;
  }
}
