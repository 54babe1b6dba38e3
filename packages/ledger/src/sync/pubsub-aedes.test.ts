import { describe, it, expect } from '@jest/globals';
import { Buffer } from 'node:buffer';
import { setTimeout as sleep } from 'node:timers/promises';
import { playHistory, shuffled, startAedes, syncAudit, testKey, tempDir, tempLedger, type HistoryStep } from '@keymesh/testkit';
import { MqttJsBus } from '../bus/mqttjs.js';
import type { Ledger } from '../ledger.js';
import { ledgerSyncStore } from './ledger-store.js';
import { PubSubSync } from './pubsub.js';

const dir = tempDir();

/**
 * The property test's scenario over a real broker: aedes in process on TCP (noDelay), MQTT.js
 * clients, a network cut that every client recovers from by itself. Seeded histories, not 500
 * runs: each run is real sockets and real time.
 */
describe('PubSubSync over a real aedes broker with MQTT.js clients', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`replicas converge after a network cut, and only addressees answer wants (seed ${seed})`, async () => {
      const steps = Array.from({ length: 40 }, (_, i) => [(i * seed) % 5, (i + seed) % 10, (i * 7) % 50, (i * 3 + seed) % 50] as HistoryStep);
      const h = playHistory(steps);
      const entries = h.entries();
      const broker = await startAedes();
      const audit = syncAudit(h.site.site);
      broker.broker.on('publish', (packet, client) => client && audit.record(client.id, packet.topic, Buffer.from(packet.payload)));
      const n = 3 + (seed % 3);
      const nodes: Array<{ ledger: Ledger; sync: PubSubSync }> = [];
      try {
        for (let i = 0; i < n; i++) {
          const key = testKey(100 + i);
          const ledger = tempLedger(h.site.site, {}, dir);
          const sync = new PubSubSync({ bus: new MqttJsBus(await broker.connect(key.publicKey)), store: ledgerSyncStore(ledger), site: h.site.site, key, relay: true, intervalMs: 100, openPeers: true });
          await sync.start();
          nodes.push({ ledger, sync });
        }
        shuffled(entries, seed).forEach((e, i) => nodes[(i * 7 + seed) % n]!.ledger.ingest([e]));
        const agreed = () => new Set(nodes.map((x) => x.ledger.digest())).size === 1 && new Set(nodes.map((x) => JSON.stringify(x.ledger.heads()))).size === 1;
        const t0 = Date.now();
        let cut = false;
        while (!agreed() && Date.now() - t0 < 30_000) {
          await sleep(25);
          if (!cut && Date.now() - t0 > 150) (broker.cutAll(), (cut = true));
        }
        expect(cut).toBe(true);
        expect(agreed()).toBe(true);
        const ref = tempLedger(h.site.site, {}, dir);
        ref.ingest(entries);
        expect(nodes[0]!.ledger.digest()).toBe(ref.digest());
        ref.close();
        expect(audit.batches).toBeGreaterThan(0);
        expect(audit.answeredByOthers).toBe(0);
      } finally {
        for (const x of nodes) (await x.sync.stop(), x.ledger.close());
        await broker.close();
      }
    }, 60_000);
  }
});
