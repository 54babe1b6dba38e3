import { describe, it, expect } from '@jest/globals';
import { Buffer } from 'node:buffer';
import { BLOB_MESSAGE_MAX_BYTES, manifestDiff, manifestId, topics } from '@keymesh/protocol';
import { prng, startAedes, testKey } from '@keymesh/testkit';
import { MqttJsBus } from '../../bus/mqttjs.js';
import { BlobStore } from '../blob-store.js';
import { BlobFetcher } from './fetcher.js';
import { checkHeldReport, publishHeld } from './held.js';
import { BlobServer } from './server.js';

const SITE = 'ef'.repeat(32);

describe('blob transfer over a real aedes broker with MQTT.js clients', () => {
  it('fetches v1 whole, then only the changed chunks of v2; every message fits the broker limit; the held report arrives retained', async () => {
    const broker = await startAedes();
    const coord = testKey(21);
    const edgeKey = testKey(22);
    const chunking = { min: 8192, avg: 32_768, max: 131_072 };
    const source = BlobStore.open(':memory:', { chunking });
    const edge = BlobStore.open(':memory:', { chunking });
    const wire = { bytes: 0, largest: 0 };
    const server = new BlobServer({ bus: new MqttJsBus(await broker.connect(coord.publicKey)), site: SITE, self: coord.publicKey, store: source });
    const edgeClient = await broker.connect(edgeKey.publicKey);
    // Counted as the edge's client reads them off its socket: what crossed the wire to it.
    edgeClient.on('packetreceive', (packet) => {
      if (packet.cmd !== 'publish' || !packet.topic.includes('/put/')) return;
      const n = Buffer.byteLength(packet.payload);
      wire.bytes += n;
      wire.largest = Math.max(wire.largest, n);
    });
    const edgeBus = new MqttJsBus(edgeClient);
    const fetcher = new BlobFetcher({ bus: edgeBus, site: SITE, self: edgeKey.publicKey, store: edge, timeoutMs: 5000 });
    try {
      await server.start();
      await fetcher.start();
      const v1 = prng(21)(3 << 20);
      const m1 = await source.put(v1);
      const r1 = await fetcher.fetch(manifestId(m1), coord.publicKey);
      expect((await edge.getBytes(r1.manifest)).equals(v1)).toBe(true);
      expect(wire.largest).toBeLessThanOrEqual(BLOB_MESSAGE_MAX_BYTES);

      const v2 = Buffer.concat([v1.subarray(0, 1_000_000), Buffer.from('a few new bytes'), v1.subarray(1_000_000)]);
      v2[2_500_000] = v2[2_500_000]! ^ 1;
      const m2 = await source.put(v2);
      wire.bytes = 0;
      const r2 = await fetcher.fetch(manifestId(m2), coord.publicKey);
      expect((await edge.getBytes(r2.manifest)).equals(v2)).toBe(true);
      const d = manifestDiff(m1, m2);
      expect(r2.fetchedBytes).toBe(d.bytes);
      expect(wire.bytes).toBeGreaterThanOrEqual(d.bytes);
      expect(wire.bytes).toBeLessThan(v2.length / 10);
      expect(fetcher.stats.reasked).toBe(0);

      // The report a coordinator reads: retained, so a subscriber that comes later gets it.
      await publishHeld(edgeBus, SITE, edgeKey, [{ manifest: manifestId(m2), version: '2.0.0' }]);
      const late = new MqttJsBus(await broker.connect('late-reader'));
      const got = await new Promise<{ topic: string; payload: Uint8Array; retain: boolean }>((resolve) => {
        void late.subscribe(topics(SITE).blobFilters.held, (m) => resolve(m));
      });
      expect(got.retain).toBe(true);
      expect(checkHeldReport(SITE, got.topic, got.payload)).toMatchObject({ ok: true, report: { node: edgeKey.publicKey, bundles: [{ version: '2.0.0' }] } });
    } finally {
      await fetcher.stop();
      await server.stop();
      await broker.close();
      source.close();
      edge.close();
    }
  });
});
