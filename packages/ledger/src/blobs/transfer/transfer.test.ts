import { describe, it, expect, afterEach } from '@jest/globals';
import { Buffer } from 'node:buffer';
import { BLOB_MESSAGE_MAX_BYTES, manifestDiff, manifestId, type ChunkingParams } from '@keymesh/protocol';
import { MemoryBroker, prng, testKey } from '@keymesh/testkit';
import { BlobStore } from '../blob-store.js';
import { BlobFetcher } from './fetcher.js';
import { BlobServer } from './server.js';

const SITE = 'ab'.repeat(32);
const COORD = testKey(1).publicKey;
const EDGE = testKey(2).publicKey;
const SMALL: Partial<ChunkingParams> = { min: 4096, avg: 16_384, max: 65_536 };

/** A coordinator serving its store and an edge fetching into its own, over one MemoryBroker that counts what the server sends. */
function pair(chunking: Partial<ChunkingParams> = SMALL) {
  const broker = new MemoryBroker({ auto: true, maxPayloadBytes: BLOB_MESSAGE_MAX_BYTES });
  const source = BlobStore.open(':memory:', { chunking });
  const edge = BlobStore.open(':memory:', { chunking });
  const server = new BlobServer({ bus: broker.client(COORD), site: SITE, self: COORD, store: source });
  const fetcher = new BlobFetcher({ bus: broker.client(EDGE), site: SITE, self: EDGE, store: edge, timeoutMs: 2000 });
  const wire = { parts: 0, bytes: 0, largest: 0, hashes: new Map<string, number>() };
  broker.onPublish((p) => {
    if (!p.topic.includes(`/blob/${COORD}/put/${EDGE}`)) return;
    wire.parts++;
    wire.bytes += p.payload.byteLength;
    wire.largest = Math.max(wire.largest, p.payload.byteLength);
    const header = JSON.parse(Buffer.from(p.payload).toString('utf8', 0, Buffer.from(p.payload).indexOf(0x0a))) as { hash: string };
    wire.hashes.set(header.hash, (wire.hashes.get(header.hash) ?? 0) + 1);
  });
  const reset = () => { wire.parts = 0; wire.bytes = 0; wire.largest = 0; wire.hashes.clear(); };
  const close = async () => {
    await fetcher.stop();
    await server.stop();
    broker.close();
    source.close();
    edge.close();
  };
  return { broker, source, edge, server, fetcher, wire, reset, close };
}

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

describe('blob transfer over a bus', () => {
  it('a second version with a few changed bytes ships only the changed chunks (bytes counted on the wire)', async () => {
    const p = pair();
    cleanup.push(p.close);
    await p.server.start();
    await p.fetcher.start();
    const v1 = prng(7)(2 << 20);
    const m1 = await p.source.put(v1);
    const r1 = await p.fetcher.fetch(manifestId(m1), COORD);
    expect(r1.manifestFetched).toBe(true);
    expect((await p.edge.getBytes(r1.manifest)).equals(v1)).toBe(true);
    expect(p.wire.bytes).toBeGreaterThan(v1.length); // the first version ships whole
    expect(p.wire.largest).toBeLessThanOrEqual(BLOB_MESSAGE_MAX_BYTES);

    const v2 = Buffer.from(v1);
    for (const at of [100_000, 900_000, 1_700_000]) v2[at] = v2[at]! ^ 0xff;
    const m2 = await p.source.put(v2);
    p.reset();
    const progress: number[] = [];
    const r2 = await p.fetcher.fetch(manifestId(m2), COORD, { onProgress: (x) => progress.push(x.bytesFetched) });
    expect((await p.edge.getBytes(r2.manifest)).equals(v2)).toBe(true);

    const d = manifestDiff(m1, m2);
    expect(d.chunks.length).toBeGreaterThanOrEqual(1);
    expect(d.chunks.length).toBeLessThanOrEqual(6);
    // Exactly the changed chunks and the new manifest went over the wire, each once.
    expect(new Set(p.wire.hashes.keys())).toEqual(new Set([manifestId(m2), ...d.chunks.map((c) => c.hash)]));
    expect([...p.wire.hashes.values()].every((n) => n === 1)).toBe(true);
    const manifestBytes = Buffer.byteLength(JSON.stringify(m2));
    expect(p.wire.bytes).toBeGreaterThanOrEqual(d.bytes);
    expect(p.wire.bytes).toBeLessThan(d.bytes + manifestBytes + 2048);
    expect(p.wire.bytes).toBeLessThan(v2.length / 10);
    expect(r2.fetchedChunks).toBe(d.chunks.length);
    expect(r2.fetchedBytes).toBe(d.bytes);
    expect(progress.at(-1)).toBe(d.bytes);
    expect(p.fetcher.stats.reasked).toBe(0);
    expect(p.server.stats.refused.busy).toBe(0);
  });

  it('a chunk larger than a message goes in parts of at most 64 KiB and arrives whole', async () => {
    const p = pair({ min: 65_536, avg: 131_072, max: 262_144 });
    cleanup.push(p.close);
    await p.server.start();
    await p.fetcher.start();
    const data = prng(3)(1 << 20);
    const m = await p.source.put(data);
    expect(m.chunks.some((c) => c.size > BLOB_MESSAGE_MAX_BYTES)).toBe(true);
    const r = await p.fetcher.fetch(manifestId(m), COORD);
    expect((await p.edge.getBytes(r.manifest)).equals(data)).toBe(true);
    expect(p.wire.largest).toBeLessThanOrEqual(BLOB_MESSAGE_MAX_BYTES);
    expect(Math.max(...p.wire.hashes.values())).toBeGreaterThan(1);
    expect(p.server.stats.pieces).toBe(new Set(m.chunks.map((c) => c.hash)).size + 1);
  });

  it('a blob held already is not fetched again, and an empty blob is fetched by its manifest alone', async () => {
    const p = pair();
    cleanup.push(p.close);
    await p.server.start();
    await p.fetcher.start();
    const m = await p.source.put(prng(5)(300_000));
    await p.fetcher.fetch(manifestId(m), COORD);
    p.reset();
    const again = await p.fetcher.fetch(manifestId(m), COORD);
    expect(again).toMatchObject({ manifestFetched: false, fetchedChunks: 0 });
    expect(p.wire.parts).toBe(0);
    const empty = await p.source.put(new Uint8Array(0));
    const r = await p.fetcher.fetch(manifestId(empty), COORD);
    expect(r.manifest.size).toBe(0);
    expect(p.wire.hashes.size).toBe(1);
  });

  it('the node that fetched a blob serves it on (its pinned manifest and chunks)', async () => {
    const p = pair();
    cleanup.push(p.close);
    await p.server.start();
    await p.fetcher.start();
    const m = await p.source.put(prng(9)(200_000));
    await p.fetcher.fetch(manifestId(m), COORD);
    const third = BlobStore.open(':memory:', { chunking: SMALL });
    const key3 = testKey(3).publicKey;
    const edgeServer = new BlobServer({ bus: p.broker.client('edge-server'), site: SITE, self: EDGE, store: p.edge });
    const f3 = new BlobFetcher({ bus: p.broker.client(key3), site: SITE, self: key3, store: third, timeoutMs: 2000 });
    cleanup.push(async () => { await f3.stop(); await edgeServer.stop(); third.close(); });
    await edgeServer.start();
    await f3.start();
    const r = await f3.fetch(manifestId(m), EDGE);
    expect(r.fetchedChunks).toBe(new Set(m.chunks.map((c) => c.hash)).size);
    expect(edgeServer.stats.pieces).toBe(r.fetchedChunks + 1);
  });

  it('serving yields to the event loop between parts (an interleaved timer keeps running)', async () => {
    const p = pair();
    cleanup.push(p.close);
    const slow = new BlobServer({ bus: p.broker.client('slow'), site: SITE, self: COORD, store: p.source, sliceMs: 0 });
    cleanup.push(() => slow.stop());
    await slow.start();
    await p.fetcher.start();
    const m = await p.source.put(prng(11)(1 << 20));
    let ticks = 0;
    let partsAtTicks = 0;
    let maxBurst = 0;
    let running = true;
    const tick = () => {
      ticks++;
      maxBurst = Math.max(maxBurst, slow.stats.parts - partsAtTicks);
      partsAtTicks = slow.stats.parts;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    await p.fetcher.fetch(manifestId(m), COORD);
    running = false;
    expect(slow.stats.parts).toBeGreaterThan(20);
    expect(ticks).toBeGreaterThan(slow.stats.parts / 2);
    expect(maxBurst).toBeLessThanOrEqual(2);
    expect(p.fetcher.stats.reasked).toBe(0);
    expect(slow.stats.refused.busy).toBe(0);
  });
});
