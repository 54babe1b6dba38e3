/**
 * `keymesh serve`: one coordinator (DESIGN §2, §7, §10-11). It relays, stores and serves; it is
 * not an authority. The pieces, each a file: the embedded broker (broker/) or a client of an
 * external one, the ledger's PubSubSync as a relay (replication: nothing of sync is written
 * here), the node registry, the HTTP API (http/) with the MQTT WebSocket on /mqtt, and the
 * blob store. Start order matters: the store is open and the sync subscribed before anyone can
 * connect, and the retained heads and node states are republished from SQLite (the broker's
 * memory is not the store).
 */
import { BlobStore, IngestPool, Ledger, PubSubSync, ledgerSyncStore, type Bus } from '@keymesh/ledger';
import { topics, type KeyPair } from '@keymesh/protocol';
import type { FastifyInstance } from 'fastify';
import { dataPaths, readNodeKey, readSite, removeServeRecord, runningServer, writeServeRecord, type DataPaths } from './data-dir.js';
import { CoordinatorError } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { NodeRegistry } from './node-registry.js';
import { EmbeddedBroker } from './broker/embedded.js';
import { connectExternal } from './external-broker.js';
import { buildApi } from './http/server.js';
import { CoordinatorMetrics } from './http/metrics.js';
import { OwnFeed } from './own-feed.js';
import { BUNDLE_CHUNKING } from './bundles/chunking.js';
import { startBundleService, type BundleService } from './bundles/service.js';

export const DEFAULT_MQTT_PORT = 1883;
export const DEFAULT_HTTP_PORT = 8080;
export const VERSION = '0.1.0';
/** Entries the coordinator stores per transaction while catching up (bench/RESULTS.md, coordinator). */
export const COORDINATOR_STORE_CHUNK = 1000;

export interface CoordinatorOptions {
  data: string;
  /** Embedded broker's TCP port (0: any free one). Default 1883. */
  mqttPort?: number;
  /** HTTP API (and MQTT over WebSocket on /mqtt). Default 8080. */
  httpPort?: number;
  /** Address to listen on. Default 0.0.0.0 (the Pis are on the LAN). */
  host?: string;
  /** An external broker's URL: no embedded broker then. */
  broker?: string;
  /** Period of the sync's haves and statuses, ms (default 5,000). */
  syncIntervalMs?: number;
  log?: Logger;
  now?: () => number;
}

export class Coordinator {
  readonly paths: DataPaths;
  readonly site: string;
  readonly siteName: string;
  readonly key: KeyPair;
  readonly ledger: Ledger;
  readonly blobs: BlobStore;
  readonly log: Logger;
  readonly metrics: CoordinatorMetrics;
  private readonly pool: IngestPool;
  /** Started from an empty ledger: the heads it holds are old until the nodes were heard. */
  readonly rebuilt: boolean;
  sync!: PubSubSync;
  registry!: NodeRegistry;
  ownFeed!: OwnFeed;
  broker: EmbeddedBroker | null = null;
  bundles: BundleService | null = null;
  bus!: Bus;
  api!: FastifyInstance;
  mqttPort: number | null = null;
  httpPort = 0;
  private closeBus: () => Promise<void> = async () => undefined;
  private stopped = false;

  private constructor(readonly o: CoordinatorOptions) {
    this.paths = dataPaths(o.data);
    const site = readSite(this.paths);
    const other = runningServer(this.paths);
    if (other && other.pid !== process.pid) {
      throw new CoordinatorError('SERVER_RUNNING', `process ${other.pid} already serves ${this.paths.dir} (${other.http}); stop it first. Two writers on one ledger file would fight over it.`, { pid: other.pid });
    }
    this.site = site.site;
    this.siteName = site.name;
    this.key = readNodeKey(this.paths);
    this.log = o.log ?? createLogger();
    this.ledger = Ledger.open(this.paths.ledger, { site: this.site, ...(o.now ? { now: o.now } : {}) });
    // A ledger lost or deleted starts again from the genesis kept in site.json; the rest comes from the nodes (DESIGN §10).
    this.rebuilt = this.ledger.count() === 0;
    if (this.rebuilt) this.ledger.ingest([site.genesis]);
    this.blobs = BlobStore.open(this.paths.blobs, { chunking: BUNDLE_CHUNKING });
    this.metrics = new CoordinatorMetrics(this.ledger);
    this.pool = new IngestPool(this.ledger);
  }

  /** Opens the data folder and serves it; throws (closing what it opened) when something cannot start. */
  static async start(o: CoordinatorOptions): Promise<Coordinator> {
    const c = new Coordinator(o);
    try {
      await c.startParts();
    } catch (err) {
      await c.stop().catch(() => undefined);
      throw err;
    }
    return c;
  }

  private async startParts(): Promise<void> {
    const o = this.o;
    const clientId = `keymesh-coordinator-${this.key.publicKey.slice(0, 16)}`;
    if (o.broker) {
      const ext = await connectExternal({ url: o.broker, clientId, key: this.key, dataDir: this.paths.dir, site: this.site, log: this.log });
      this.bus = ext.bus;
      this.closeBus = ext.close;
    } else {
      this.broker = await EmbeddedBroker.start({ site: this.site, policy: () => this.ledger.policy, log: this.log, ...(o.now ? { now: o.now } : {}) });
      this.bus = this.broker.bus(clientId);
    }
    this.sync = new PubSubSync({
      bus: this.bus,
      // Lines received are parsed and hashed in a worker; this thread verifies chains and stores.
      store: ledgerSyncStore(this.ledger, { pool: this.pool }),
      site: this.site,
      key: this.key,
      relay: true,
      // Every client was authenticated by the broker first (the embedded one: enrolled nodes and
      // admins; an external one: its password file). A coordinator rebuilding from the genesis
      // alone (DESIGN §10) knows no node yet, and must take their haves to learn the site.
      openPeers: true,
      intervalMs: o.syncIntervalMs ?? 5000,
      // No taps to decide here: larger store calls cost fewer transactions and signature checks.
      storeChunk: COORDINATOR_STORE_CHUNK,
      versions: { keymesh: VERSION },
      onIngest: (r, from) => {
        this.metrics.onIngest(r);
        if (r.accepted > 0 || r.rejected.length > 0) this.log.info({ ev: 'ingest', from: from.slice(0, 16), accepted: r.accepted, rejected: r.rejected.length }, 'entries ingested');
        for (const rej of r.rejected.slice(0, 10)) this.log.warn({ ev: 'reject', from: from.slice(0, 16), code: rej.code, reason: rej.reason, author: rej.author?.slice(0, 16), seq: rej.seq }, 'entry refused');
      },
      onInvalid: (reason, topic) => {
        this.metrics.onInvalid(reason, topic);
        this.log.warn({ ev: 'invalid', topic, reason }, 'message dropped');
      },
    });
    this.registry = new NodeRegistry(this.ledger, this.bus, { onInvalid: (reason, topic) => (this.metrics.onInvalid(reason, topic), this.log.warn({ ev: 'invalid', topic, reason }, 'message dropped')) });
    this.ownFeed = new OwnFeed(this.ledger, this.key, this.sync, this.log);
    await this.registry.start();
    this.bundles = await startBundleService({
      bus: this.bus, site: this.site, self: this.key.publicKey, blobs: this.blobs,
      isNode: (k) => this.ledger.policy.node(k)?.retired === false,
      onRefused: (what, from, reason) => this.log.warn({ ev: 'blob-refused', what, from: from.slice(0, 16), reason }, 'blob message refused'),
    });
    await this.sync.start();
    this.sync.republishHeads();
    const republished = await this.registry.republish();
    this.log.info({ ev: 'republished', heads: Object.keys(this.ledger.heads()).length, nodeMessages: republished }, 'retained heads and node states republished from SQLite');

    this.api = await buildApi({
      site: this.site,
      siteName: this.siteName,
      coordinator: this.key.publicKey,
      ledger: this.ledger,
      sync: this.sync,
      log: this.log,
      metrics: this.metrics,
      registry: this.registry,
      blobs: this.blobs,
      publishCommand: (node, payload) => this.bus.publish(topics(this.site).cmd(node), payload, { qos: 1, retain: false }),
      brokerClients: () => this.broker?.stats().clients ?? null,
      refusingEntries: () => (this.rebuilt && !this.ownFeed.learned
        ? 'this coordinator started from an empty ledger and has not yet heard every node, so the heads it holds may be old and an entry signed after one would fork its key; try again in a minute (keymesh status lists the nodes heard). With no node enrolled or reachable, restore ledger.db from a backup instead.'
        : null),
      ...(o.now ? { now: o.now } : {}),
    });
    if (this.broker) this.broker.attachWebSocket(this.api.server, '/mqtt');
    const host = o.host ?? '0.0.0.0';
    try {
      await this.api.listen({ port: o.httpPort ?? DEFAULT_HTTP_PORT, host });
    } catch (err) {
      throw portError('HTTP', o.httpPort ?? DEFAULT_HTTP_PORT, err);
    }
    this.httpPort = (this.api.server.address() as { port: number }).port;
    if (this.broker) {
      try {
        this.mqttPort = await this.broker.listenTcp(o.mqttPort ?? DEFAULT_MQTT_PORT, host);
      } catch (err) {
        throw portError('MQTT', o.mqttPort ?? DEFAULT_MQTT_PORT, err);
      }
    }
    writeServeRecord(this.paths, { pid: process.pid, http: `http://127.0.0.1:${this.httpPort}`, mqtt: this.mqttPort === null ? (o.broker ?? null) : `mqtt://127.0.0.1:${this.mqttPort}`, started: Date.now() });
    this.ownFeed.learn();
    this.log.info({ ev: 'serving', site: this.site, http: this.httpPort, mqtt: this.mqttPort, broker: o.broker ?? 'embedded' }, 'coordinator serving');
  }

  /** Stops everything it started, in reverse order; idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.ownFeed?.stop();
    this.broker?.closeWebSockets(); // a dashboard's open WebSocket would keep the HTTP server from closing
    await this.api?.close().catch(() => undefined);
    await this.registry?.stop().catch(() => undefined);
    await this.bundles?.stop().catch(() => undefined);
    await this.sync?.stop().catch(() => undefined);
    await this.broker?.close().catch(() => undefined);
    await this.closeBus().catch(() => undefined);
    await this.pool.close().catch(() => undefined);
    this.blobs.close();
    this.ledger.close();
    if (runningServer(this.paths)?.pid === process.pid) removeServeRecord(this.paths);
    this.log.info({ ev: 'stopped' }, 'coordinator stopped');
    this.log.flush?.();
  }
}

function portError(what: string, port: number, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new CoordinatorError('PORT_IN_USE', `${what} port ${port} is taken by another program; stop it or pass another port (--${what === 'HTTP' ? 'http' : 'mqtt'}-port).`, { port });
  if (code === 'EACCES') return new CoordinatorError('PORT_IN_USE', `${what} port ${port} needs privileges; use a port above 1023.`, { port });
  return err as Error;
}
