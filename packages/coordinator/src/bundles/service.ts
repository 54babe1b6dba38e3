/**
 * What `keymesh serve` runs for bundles (DESIGN §8): a BlobServer answering nodes' chunk
 * requests from the coordinator's blob store, and the held reports kept (held-reports.ts), both
 * on the coordinator's bus. Only enrolled, unretired nodes are served or heard.
 */
import { BlobServer, type BlobStore, type Bus, type ServerRefusal } from '@keymesh/ledger';
import { HeldReports } from './held-reports.js';

export interface BundleServiceOptions {
  bus: Bus;
  site: string;
  /** The coordinator's node key (requests addressed to it are answered). */
  self: string;
  /** The coordinator's blob store (blobs.db), opened with BUNDLE_CHUNKING. */
  blobs: BlobStore;
  /** Whether `node` is an enrolled, unretired node now (e.g. `(k) => ledger.policy.node(k)?.retired === false`). */
  isNode: (node: string) => boolean;
  /** A log line for each refused request or report. */
  onRefused?: (what: 'request' | 'held', from: string, reason: string) => void;
}

export interface BundleService {
  server: BlobServer;
  held: HeldReports;
  stop(): Promise<void>;
}

export async function startBundleService(o: BundleServiceOptions): Promise<BundleService> {
  const server = new BlobServer({
    bus: o.bus, site: o.site, self: o.self, store: o.blobs, allow: o.isNode,
    onRefused: (from: string, why: ServerRefusal, reason: string) => o.onRefused?.('request', from, `${why}: ${reason}`),
  });
  const held = new HeldReports(o.blobs.db, o.site);
  await server.start();
  const detach = await held.attach(o.bus, { isNode: o.isNode, onRefused: (topic, reason) => o.onRefused?.('held', topic, reason) });
  return {
    server,
    held,
    async stop() {
      await detach();
      await server.stop();
    },
  };
}
