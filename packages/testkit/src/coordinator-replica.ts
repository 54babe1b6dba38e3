/**
 * What an edge agent test needs around it: a real aedes broker, a coordinator replica on it
 * (the ledger's PubSubSync as a relay, as `keymesh serve` runs it) holding the site's rules, and
 * provisioning files naming them, as `keymesh node enrol` writes them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ledger, MqttJsBus, PubSubSync, ledgerSyncStore } from '@keymesh/ledger';
import { encodeEntry, toHex, type AnyEntry, type KeyPair } from '@keymesh/protocol';
import { startAedes, type AedesHandle } from './aedes-broker.js';
import { TEST_CARD_KEY, type TestSite } from './site.js';

export interface CoordinatorReplica {
  broker: AedesHandle;
  ledger: Ledger;
  sync: PubSubSync;
  /** Stores entries and republishes the retained heads (as the coordinator does at start). */
  hold(entries: readonly AnyEntry[]): void;
  /** An entry arriving from an admin's tools: stored, then published live. */
  publish(entry: AnyEntry): void;
  /** Writes a provisioning file for a node with this key seed; returns its path. */
  provisioning(dir: string, node: { name: string; kind: 'door' | 'machine'; resource: string; seed: Uint8Array }): string;
  close(): Promise<void>;
}

export async function startCoordinatorReplica(site: TestSite, key: KeyPair, dir: string): Promise<CoordinatorReplica> {
  const broker = await startAedes();
  const ledger = Ledger.open(join(dir, 'coordinator.db'), { site: site.site });
  ledger.ingest([site.genesis]);
  const sync = new PubSubSync({ bus: new MqttJsBus(await broker.connect('coordinator')), store: ledgerSyncStore(ledger), site: site.site, key, relay: true, openPeers: true, intervalMs: 100 });
  await sync.start();
  return {
    broker, ledger, sync,
    hold(entries) {
      ledger.ingest(entries);
      sync.republishHeads();
    },
    publish(entry) {
      ledger.ingest([entry]);
      sync.publishEntries([entry]);
    },
    provisioning(to, node) {
      const path = join(to, `${node.name}.json`);
      writeFileSync(path, JSON.stringify({
        keymesh: 'provisioning', v: 1, site: site.site, siteName: 'Test Space', genesis: encodeEntry(site.genesis),
        broker: { url: broker.url }, coordinators: [key.publicKey], cardKey: TEST_CARD_KEY,
        node: { name: node.name, kind: node.kind, resource: node.resource, seed: toHex(node.seed) }, created: 1,
      }));
      return path;
    },
    async close() {
      await sync.stop();
      ledger.close();
      await broker.close();
    },
  };
}
