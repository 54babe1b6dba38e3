/** What every route of the API reads: the server's dependencies and its own few parts. */
import type { Logger } from 'pino';
import type { BlobStore, Ledger, PubSubSync } from '@keymesh/ledger';
import type { ReplayCache } from '@keymesh/protocol';
import type { CoordinatorMetrics } from './metrics.js';
import type { NodeRegistry } from '../node-registry.js';

export interface ApiDeps {
  site: string;
  siteName: string;
  /** The coordinator's public key. */
  coordinator: string;
  ledger: Ledger;
  /** Its submit(line) is the compare-and-set relay (Ledger.submit, then published). */
  sync: PubSubSync;
  log: Logger;
  metrics: CoordinatorMetrics;
  /** Publishes a verified command on cmd/<node> (QoS 1, never retained); the lead wires it to the broker/bus. */
  publishCommand(node: string, payload: Uint8Array): Promise<void>;
  /** Connected MQTT clients right now (the broker's stats), or null with an external broker. */
  brokerClients(): number | null;
  /** The nodes' signed statuses and states as heard on the bus; without it, /api/status knows only the ledger. */
  registry?: NodeRegistry;
  /** The blob store (bundles); no route reads it yet. */
  blobs?: BlobStore;
  now?: () => number;
  /**
   * Why entries cannot be taken now (null: they can). A coordinator rebuilt from the genesis
   * holds old heads until it has heard the nodes; an admin signing after one would fork its key.
   */
  refusingEntries?: () => string | null;
  /** Largest request body in bytes (default 256 KiB). */
  bodyLimit?: number;
}

export interface ApiContext {
  deps: ApiDeps;
  now: () => number;
  startedAt: number;
  /** Commands already relayed, until they expire: the same command is not published twice. */
  seenCommands: ReplayCache;
}

/** The route plugins' options: fastify plugins take an options object. */
export interface RouteOptions {
  ctx: ApiContext;
}
