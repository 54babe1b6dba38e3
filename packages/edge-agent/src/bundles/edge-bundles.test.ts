// Bundles at the edge against the coordinator's real bundle service (blob server and held
// reports) over a MemoryBroker: a published bundle reaches the edge's data folder and its held
// report reaches the coordinator; a second version ships only its changed chunks; a chunk
// tampered on the way is refused and nothing is installed; the refusals (a wrong signed size,
// a version reused for other bytes, a damaged file at start) each change nothing else.
import { describe, it, expect, afterEach } from '@jest/globals';
import { Buffer } from 'node:buffer';
import { existsSync, mkdirSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { BlobStore, Ledger, type Bus } from '@keymesh/ledger';
import { BLOB_MESSAGE_MAX_BYTES, manifestDiff, manifestId, type Manifest } from '@keymesh/protocol';
import { BUNDLE_CHUNKING, initSite, readNodeKey, startBundleService, type BundleService } from '@keymesh/coordinator';
import { MemoryBroker, prng, testKey, type MemoryBus } from '@keymesh/testkit';
import { tempDir } from '@keymesh/testkit/temp-files';
import { EdgeBundles } from './edge-bundles.js';
import type { BundleLedgerView } from './wanted.js';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const header = (p: Uint8Array) => JSON.parse(Buffer.from(p).toString('utf8', 0, Buffer.from(p).indexOf(0x0a))) as { hash: string };

/** A coordinator (data folder, ledger, blob store, bundle service) and an enrolled edge with its own replica. */
async function world() {
  const root = tempDir('keymesh-edge-bundles-');
  const init = initSite({ name: 'Bundles', data: join(root, 'coord'), keysDir: join(root, 'keys') });
  const coordLedger = Ledger.open(init.paths.ledger, { site: init.site });
  const edgeKey = testKey(61);
  coordLedger.append(init.daily, 'node.enrol', { node: edgeKey.publicKey, name: 'door-1', role: 'edge', resources: [] });
  const blobs = BlobStore.open(init.paths.blobs, { chunking: BUNDLE_CHUNKING });
  mkdirSync(join(root, 'edge'));
  const edgeLedger = Ledger.open(join(root, 'edge', 'ledger.db'), { site: init.site });
  const edgeBlobs = BlobStore.open(join(root, 'edge', 'blobs.db'), { chunking: BUNDLE_CHUNKING });
  const broker = new MemoryBroker({ auto: true, maxPayloadBytes: BLOB_MESSAGE_MAX_BYTES });
  const coordinator = readNodeKey(init.paths).publicKey;

  // The coordinator's bus, through which a test may alter the parts of chosen chunks on the way.
  const tamper = new Set<string>();
  const inner = broker.client(coordinator);
  const coordBus: Bus = {
    get connected() { return inner.connected; },
    publish: (topic, payload, opts) => {
      if (topic.includes('/put/') && tamper.has(header(payload).hash)) {
        const b = Buffer.from(payload);
        b[b.length - 1] = b[b.length - 1]! ^ 0x01;
        return inner.publish(topic, b, opts);
      }
      return inner.publish(topic, payload, opts);
    },
    subscribe: (f, h) => inner.subscribe(f, h),
    unsubscribe: (f, h) => inner.unsubscribe(f, h),
    onConnection: (l) => inner.onConnection(l),
  };
  const svc: BundleService = await startBundleService({ bus: coordBus, site: init.site, self: coordinator, blobs, isNode: (k) => coordLedger.policy.node(k)?.retired === false });
  const sent = new Map<string, number>(); // chunk or manifest hash -> parts the server sent to the edge
  broker.onPublish((p) => {
    if (p.topic.endsWith(`/blob/${coordinator}/put/${edgeKey.publicKey}`)) sent.set(header(p.payload).hash, (sent.get(header(p.payload).hash) ?? 0) + 1);
  });
  const logs: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  const edgeDir = join(root, 'edge');
  let edgeBus: MemoryBus | null = null;
  const edge = (o: { ledger?: BundleLedgerView } = {}): EdgeBundles => {
    edgeBus?.end(); // a restarted agent connects again
    edgeBus = broker.client(edgeKey.publicKey);
    const e = new EdgeBundles({
      bus: edgeBus, site: init.site, key: edgeKey, ledger: o.ledger ?? edgeLedger, blobs: edgeBlobs, dir: edgeDir,
      log: (level, msg, fields) => logs.push({ level, msg, fields }), pollMs: 600_000, timeoutMs: 500, retries: 1,
    });
    cleanup.push(() => e.stop());
    return e;
  };
  /** The edge's replica takes every entry the coordinator holds (what sync would bring). */
  const sync = () => {
    for (const author of Object.keys(coordLedger.heads())) edgeLedger.ingest(coordLedger.readEncoded(author, 1, 10_000));
  };
  const publish = async (bytes: Uint8Array, version: string, o: { size?: number; targets?: 'all' | string[] } = {}): Promise<{ id: string; manifest: Manifest }> => {
    const manifest = await blobs.put(bytes, { pin: true });
    const id = manifestId(manifest);
    coordLedger.append(init.daily, 'bundle.publish', { manifest: id, version, size: o.size ?? bytes.byteLength, targets: o.targets ?? [edgeKey.publicKey] });
    sync();
    return { id, manifest };
  };
  const heldAtCoordinator = async () => {
    await broker.settle();
    return svc.held.all().find((r) => r.node === edgeKey.publicKey)?.bundles.map((b) => b.version).sort() ?? null;
  };
  cleanup.push(async () => {
    await svc.stop();
    broker.close();
    blobs.close();
    edgeBlobs.close();
    coordLedger.close();
    edgeLedger.close();
  });
  sync();
  return { init, edgeKey, edgeLedger, edgeDir, edgeBlobs, broker, tamper, sent, logs, edge, publish, heldAtCoordinator };
}

describe('EdgeBundles', () => {
  it('fetches a bundle published for it, stores it and reports it; a second version ships only the changed chunks', async () => {
    const w = await world();
    const v1 = prng(71)(600_000);
    const b1 = await w.publish(v1, '1.0.0');
    await w.publish(prng(72)(50_000), '0.9.0-other', { targets: [testKey(62).publicKey] }); // for another node
    const e = w.edge();
    await e.start();
    await e.check();
    expect(readFileSync(join(w.edgeDir, 'bundles', '1.0.0', 'bundle')).equals(v1)).toBe(true);
    expect(readFileSync(join(w.edgeDir, 'bundles', '1.0.0', 'manifest'), 'utf8').trim()).toBe(b1.id);
    expect(existsSync(join(w.edgeDir, 'bundles', '0.9.0-other'))).toBe(false);
    expect(e.status().held).toEqual([{ manifest: b1.id, version: '1.0.0' }]);
    expect(await w.heldAtCoordinator()).toEqual(['1.0.0']);

    const v2 = Buffer.from(v1);
    for (const at of [50_000, 400_000]) v2[at] = v2[at]! ^ 0xff;
    w.sent.clear();
    const b2 = await w.publish(v2, '1.1.0');
    await e.check();
    expect(readFileSync(join(w.edgeDir, 'bundles', '1.1.0', 'bundle')).equals(v2)).toBe(true);
    const changed = manifestDiff(b1.manifest, b2.manifest).chunks.map((c) => c.hash);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.length).toBeLessThan(b2.manifest.chunks.length / 3);
    // Exactly the new manifest and the changed chunks came over the bus.
    expect(new Set(w.sent.keys())).toEqual(new Set([b2.id, ...changed]));
    expect(await w.heldAtCoordinator()).toEqual(['1.0.0', '1.1.0']);
  });

  it('refuses a chunk tampered on the way: nothing of it is stored, no bundle is written, the report is unchanged', async () => {
    const w = await world();
    const e = w.edge();
    await e.start();
    const v1 = prng(73)(300_000);
    const b1 = await w.publish(v1, '1.0.0');
    await e.check();
    expect(await w.heldAtCoordinator()).toEqual(['1.0.0']);

    const v2 = Buffer.from(v1);
    v2[150_000] = v2[150_000]! ^ 0xff;
    const b2 = await w.publish(v2, '2.0.0');
    const bad = manifestDiff(b1.manifest, b2.manifest).chunks.map((c) => c.hash);
    for (const h of bad) w.tamper.add(h);
    await e.check();
    expect(existsSync(join(w.edgeDir, 'bundles', '2.0.0'))).toBe(false);
    for (const h of bad) expect(w.edgeBlobs.has(h)).toBe(false);
    expect(e.status().failed).toEqual([expect.objectContaining({ version: '2.0.0', reason: expect.stringContaining('hash to something else') })]);
    // Each tampered part was refused; the log says so once, not once per part.
    expect(w.logs.filter((l) => l.level === 'warn' && l.fields?.why === 'mismatch')).toHaveLength(1);
    expect(await w.heldAtCoordinator()).toEqual(['1.0.0']);
  });

  it('refuses a bundle whose bytes are not the size its bundle.publish signed, and a version reused for other bytes', async () => {
    const w = await world();
    const e = w.edge();
    await e.start();
    await w.publish(prng(74)(100_000), '3.0.0', { size: 99_999 });
    await e.check();
    expect(existsSync(join(w.edgeDir, 'bundles', '3.0.0'))).toBe(false);
    expect(e.status().failed).toEqual([expect.objectContaining({ version: '3.0.0', reason: expect.stringContaining('its bundle.publish says 99999') })]);

    const first = await w.publish(prng(75)(100_000), '4.0.0');
    await e.check();
    await w.publish(prng(76)(100_000), '4.0.0');
    await e.check();
    expect(readFileSync(join(w.edgeDir, 'bundles', '4.0.0', 'manifest'), 'utf8').trim()).toBe(first.id);
    expect(e.status().failed.map((f) => f.reason)).toContainEqual(expect.stringContaining('a version names one bundle'));
    expect(e.status().held).toEqual([{ manifest: first.id, version: '4.0.0' }]);
  });

  it('at start reports what the data folder holds whole; a damaged bundle file is not reported and is fetched again', async () => {
    const w = await world();
    const v1 = prng(77)(200_000);
    const v2 = prng(78)(200_000);
    await w.publish(v1, '1.0.0');
    await w.publish(v2, '2.0.0');
    const first = w.edge();
    await first.start();
    await first.check();
    await first.stop();
    truncateSync(join(w.edgeDir, 'bundles', '1.0.0', 'bundle'), 1000);

    const again = w.edge();
    await again.start();
    await again.check();
    expect(w.logs.some((l) => l.msg.includes('bundle 1.0.0') && l.msg.includes('does not match its manifest'))).toBe(true);
    await again.check();
    expect(readFileSync(join(w.edgeDir, 'bundles', '1.0.0', 'bundle')).equals(v1)).toBe(true);
    expect(await w.heldAtCoordinator()).toEqual(['1.0.0', '2.0.0']);
  });

  it('a failure inside a pass is logged, never an unhandled rejection; the next pass runs', async () => {
    const w = await world();
    await w.publish(prng(79)(50_000), '1.0.0');
    let broken = true;
    const ledger = { policy: { keys: (p: string) => { if (broken) throw new Error('replica closed'); return w.edgeLedger.policy.keys(p); }, bundle: (m: string) => w.edgeLedger.policy.bundle(m) }, nodes: () => w.edgeLedger.nodes(), now: () => w.edgeLedger.now() };
    const e = w.edge({ ledger });
    await e.start();
    await e.check();
    expect(w.logs).toContainEqual(expect.objectContaining({ level: 'error', msg: expect.stringContaining('bundle check failed'), fields: { reason: 'replica closed' } }));
    broken = false;
    await e.check();
    expect(e.status().held.map((h) => h.version)).toEqual(['1.0.0']);
  });
});
