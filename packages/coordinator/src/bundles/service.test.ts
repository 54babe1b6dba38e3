// The coordinator's bundle service end to end over a MemoryBroker: a bundle published into the
// data folder is fetched by an enrolled edge from the coordinator's blob store; the edge's held
// report reaches the coordinator, and bundle status says the node holds it.
import { describe, it, expect } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlobFetcher, BlobStore, Ledger, publishHeld } from '@keymesh/ledger';
import { MemoryBroker, prng, testKey } from '@keymesh/testkit';
import { tempDir } from '@keymesh/testkit/temp-files';
import { ledgerTarget } from '../admin/target.js';
import { signAndSubmit } from '../admin/writer.js';
import { initSite } from '../site-init.js';
import { readNodeKey } from '../data-dir.js';
import { BUNDLE_CHUNKING } from './chunking.js';
import { publishBundle } from './publish.js';
import { startBundleService } from './service.js';
import { bundleStatus } from './status.js';

describe('bundle service', () => {
  it('an enrolled edge fetches a published bundle and its report shows in bundle status; a stranger is not served', async () => {
    const root = tempDir('keymesh-bundle-svc-');
    const init = initSite({ name: 'Svc', data: join(root, 'data'), keysDir: join(root, 'keys') });
    const edgeKey = testKey(41);
    const target = ledgerTarget(init.paths.ledger, init.site);
    await signAndSubmit(target, init.daily, init.site, 'node.enrol', { node: edgeKey.publicKey, name: 'door-1', role: 'edge', resources: [] }, [`node/${edgeKey.publicKey}`]);
    const file = join(root, 'b.tar');
    const bytes = prng(41)(400_000);
    writeFileSync(file, bytes);
    const blobs = BlobStore.open(init.paths.blobs, { chunking: BUNDLE_CHUNKING });
    const read: number[] = [];
    const p = await publishBundle({ file, version: '2.0.0', targets: [edgeKey.publicKey], adminKey: init.daily, site: init.site, target, blobs, onProgress: (done, total) => { expect(total).toBe(bytes.length); read.push(done); } });
    expect(read.at(-1)).toBe(bytes.length);
    await target.close();

    const ledger = Ledger.open(init.paths.ledger, { site: init.site });
    const broker = new MemoryBroker({ auto: true, maxPayloadBytes: 65_536 });
    const coordinator = readNodeKey(init.paths).publicKey;
    const refused: string[] = [];
    const svc = await startBundleService({
      bus: broker.client(coordinator), site: init.site, self: coordinator, blobs,
      isNode: (k) => ledger.policy.node(k)?.retired === false, onRefused: (what, _from, reason) => refused.push(`${what}: ${reason}`),
    });
    const edgeStore = BlobStore.open(':memory:');
    const edgeBus = broker.client(edgeKey.publicKey);
    const fetcher = new BlobFetcher({ bus: edgeBus, site: init.site, self: edgeKey.publicKey, store: edgeStore, timeoutMs: 5000, retries: 0 });
    const stranger = testKey(42);
    const strangerStore = BlobStore.open(':memory:');
    const strangerFetcher = new BlobFetcher({ bus: broker.client(stranger.publicKey), site: init.site, self: stranger.publicKey, store: strangerStore, timeoutMs: 300, retries: 0 });
    try {
      await fetcher.start();
      await strangerFetcher.start();
      const r = await fetcher.fetch(p.id, coordinator);
      expect((await edgeStore.getBytes(r.manifest)).equals(bytes)).toBe(true);
      await expect(strangerFetcher.fetch(p.id, coordinator)).rejects.toMatchObject({ code: 'TRANSFER_TIMEOUT' });
      expect(svc.server.stats.refused.denied).toBe(1);

      await publishHeld(edgeBus, init.site, edgeKey, [{ manifest: p.id, version: '2.0.0' }]);
      await publishHeld(broker.client('x'), init.site, stranger, []).catch(() => undefined);
      await broker.settle();
      const st = bundleStatus(ledger, svc.held.all());
      expect(st.bundles).toEqual([expect.objectContaining({ version: '2.0.0', held: 1, nodes: [expect.objectContaining({ name: 'door-1', holds: true })] })]);
      expect(refused.some((x) => x.startsWith('held:') && x.includes('not an enrolled node'))).toBe(true);
    } finally {
      await fetcher.stop();
      await strangerFetcher.stop();
      await svc.stop();
      broker.close();
      edgeStore.close();
      strangerStore.close();
      blobs.close();
      ledger.close();
    }
  });
});
