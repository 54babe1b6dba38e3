import { describe, it, expect, afterEach } from '@jest/globals';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { BLOB_PART_BYTES, manifestId, topics, type ChunkingParams } from '@keymesh/protocol';
import { MemoryBroker, prng, testKey, type MemoryBus } from '@keymesh/testkit';
import { BlobStore } from '../blob-store.js';
import { encodeGet, encodePart } from './codec.js';
import { BlobFetcher } from './fetcher.js';
import { checkHeldReport, makeHeldReport } from './held.js';
import { PinnedManifests } from './manifest-bytes.js';
import { BlobServer } from './server.js';

const SITE = 'cd'.repeat(32);
const T = topics(SITE);
const SRC = testKey(11).publicKey;
const EDGE = testKey(12).publicKey;
const OTHER = testKey(13).publicKey;
const SMALL: Partial<ChunkingParams> = { min: 4096, avg: 16_384, max: 65_536 };
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const settle = () => new Promise((r) => setTimeout(r, 30));

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function world(auto = true) {
  const broker = new MemoryBroker({ auto });
  const stores: BlobStore[] = [];
  const store = () => { const s = BlobStore.open(':memory:', { chunking: SMALL }); stores.push(s); return s; };
  cleanup.push(() => { broker.close(); for (const s of stores) s.close(); });
  return { broker, store };
}

/** A source node played by hand: `answer(hash, send)` decides what each asked hash gets. */
function fakeSource(bus: MemoryBus, self: string, answer: (hash: string, to: string, send: (bytes: Uint8Array, hash?: string) => void) => void) {
  const asked: string[][] = [];
  void bus.subscribe(T.blobFilters.getsTo(self), (m) => {
    const to = m.topic.split('/')[4]!;
    const { hashes } = JSON.parse(Buffer.from(m.payload).toString()) as { hashes: string[] };
    asked.push(hashes);
    for (const h of hashes) {
      answer(h, to, (bytes, as = h) => {
        for (let o = 0; o < bytes.length; o += BLOB_PART_BYTES) void bus.publish(T.blobPut(self, to), encodePart(as, bytes, o), { qos: 1 });
      });
    }
  });
  return asked;
}

async function edgeFetcher(bus: MemoryBus, store: BlobStore, o: { timeoutMs?: number; retries?: number; maxManifestBytes?: number } = {}) {
  const f = new BlobFetcher({ bus, site: SITE, self: EDGE, store, timeoutMs: o.timeoutMs ?? 100, retries: o.retries ?? 1, maxManifestBytes: o.maxManifestBytes });
  await f.start();
  cleanup.push(() => f.stop());
  return f;
}

function chunksStored(s: BlobStore): number {
  return s.stats().chunks;
}

describe('blob fetcher: hostile replies change nothing', () => {
  it('a reply whose bytes do not hash to what was asked is dropped, counted and never stored; the fetch fails naming it', async () => {
    const w = world();
    const real = w.store();
    const m = await real.put(prng(1)(100_000));
    const manifests = new PinnedManifests(real);
    fakeSource(w.broker.client(SRC), SRC, (h, _to, send) => {
      const bytes = manifests.bytes(h) ?? real.getChunk(h)!;
      send(h === manifestId(m) ? bytes : Buffer.from(bytes).fill(7));
    });
    const edge = w.store();
    const f = await edgeFetcher(w.broker.client(EDGE), edge, { retries: 2 });
    await expect(f.fetch(manifestId(m), SRC)).rejects.toMatchObject({ code: 'TRANSFER_CORRUPT' });
    expect(f.stats.refused.mismatch).toBeGreaterThanOrEqual(3);
    expect(chunksStored(edge)).toBe(0);
  });

  it('a source that misses a request is asked again after the time-out, and the fetch completes', async () => {
    const w = world();
    const real = w.store();
    const data = prng(2)(120_000);
    const m = await real.put(data);
    const manifests = new PinnedManifests(real);
    let ignored = 0;
    fakeSource(w.broker.client(SRC), SRC, (h, _to, send) => {
      if (h !== manifestId(m) && ignored++ === 0) return; // the first chunk asked is lost once
      send(manifests.bytes(h) ?? real.getChunk(h)!);
    });
    const edge = w.store();
    const f = await edgeFetcher(w.broker.client(EDGE), edge, { timeoutMs: 300, retries: 3 });
    const r = await f.fetch(manifestId(m), SRC);
    expect((await edge.getBytes(r.manifest)).equals(data)).toBe(true);
    expect(f.stats.reasked).toBeGreaterThanOrEqual(1);
  });

  it('a silent source fails the fetch with TRANSFER_TIMEOUT after its retries', async () => {
    const w = world();
    const asked = fakeSource(w.broker.client(SRC), SRC, () => undefined);
    const f = await edgeFetcher(w.broker.client(EDGE), w.store(), { timeoutMs: 40, retries: 2 });
    await expect(f.fetch('ee'.repeat(32), SRC)).rejects.toMatchObject({ code: 'TRANSFER_TIMEOUT' });
    expect(asked.length).toBe(3);
  });

  it('parts from a node that was not asked are dropped, even when their bytes are right', async () => {
    const w = world();
    const real = w.store();
    const m = await real.put(prng(3)(80_000));
    const manifests = new PinnedManifests(real);
    fakeSource(w.broker.client(SRC), SRC, (h, _to, send) => { if (h === manifestId(m)) send(manifests.bytes(h)!); });
    const intruder = w.broker.client(OTHER);
    const edge = w.store();
    const f = await edgeFetcher(w.broker.client(EDGE), edge, { timeoutMs: 1000, retries: 1 });
    const fetching = f.fetch(manifestId(m), SRC);
    await settle();
    for (const c of m.chunks) await intruder.publish(T.blobPut(OTHER, EDGE), encodePart(c.hash, real.getChunk(c.hash)!, 0), { qos: 1 });
    await expect(fetching).rejects.toMatchObject({ code: 'TRANSFER_TIMEOUT' });
    expect(f.stats.refused.unasked).toBe(m.chunks.length);
    expect(chunksStored(edge)).toBe(0);
  });

  it('oversized, malformed and misaligned parts are refused and nothing of them is stored', async () => {
    const w = world();
    const edge = w.store();
    const f = await edgeFetcher(w.broker.client(EDGE), edge, { timeoutMs: 1000, retries: 0 });
    const id = 'aa'.repeat(32);
    const src = w.broker.client(SRC);
    fakeSource(src, SRC, () => undefined);
    const fetching = f.fetch(id, SRC);
    await settle();
    const put = (b: Uint8Array | string) => src.publish(T.blobPut(SRC, EDGE), typeof b === 'string' ? Buffer.from(b) : b, { qos: 1 });
    await put(Buffer.concat([Buffer.from(JSON.stringify({ kind: 'part', hash: id, offset: 0, total: 70_000 }) + '\n'), Buffer.alloc(70_000)]));
    await put('not a part at all');
    await put('{"kind":"part","hash":"zz","offset":0,"total":1}\nx');
    await put(JSON.stringify({ kind: 'part', hash: id, offset: 0, total: 10, extra: 1 }) + '\n0123456789');
    await put(JSON.stringify({ kind: 'part', hash: id, offset: 5, total: 10 }) + '\n01234');
    await put(JSON.stringify({ kind: 'part', hash: id, offset: 0, total: 10 }) + '\n0123'); // shorter than it says
    await put('x'.repeat(600)); // no header line within 512 bytes
    await expect(fetching).rejects.toMatchObject({ code: 'TRANSFER_TIMEOUT' });
    expect(f.stats.refused.oversized).toBe(1);
    expect(f.stats.refused.malformed).toBe(6);
    expect(chunksStored(edge)).toBe(0);
    expect(edge.pinned()).toEqual([]);
  });

  it('a manifest larger than the limit, or bytes that hash right but are no manifest, are refused and nothing is pinned', async () => {
    const w = world();
    const big = Buffer.alloc(200_000, 0x20);
    const notManifest = Buffer.from('{"this":"is not a manifest"}');
    fakeSource(w.broker.client(SRC), SRC, (h, _to, send) => send(h === sha(big) ? big : notManifest));
    const edge = w.store();
    const f = await edgeFetcher(w.broker.client(EDGE), edge, { timeoutMs: 1000, retries: 0, maxManifestBytes: 100_000 });
    await expect(f.fetch(sha(big), SRC)).rejects.toMatchObject({ code: 'TRANSFER_TIMEOUT' });
    expect(f.stats.refused.oversized).toBeGreaterThanOrEqual(1);
    await expect(f.fetch(sha(notManifest), SRC)).rejects.toMatchObject({ code: 'TRANSFER_BAD_MANIFEST' });
    expect(edge.pinned()).toEqual([]);
  });

  it('a part whose size disagrees with the manifest is refused', async () => {
    const w = world();
    const real = w.store();
    const m = await real.put(prng(4)(50_000));
    const manifests = new PinnedManifests(real);
    fakeSource(w.broker.client(SRC), SRC, (h, _to, send) => send(manifests.bytes(h) ?? Buffer.concat([real.getChunk(h)!, Buffer.from('x')])));
    const edge = w.store();
    const f = await edgeFetcher(w.broker.client(EDGE), edge, { timeoutMs: 1000, retries: 0 });
    await expect(f.fetch(manifestId(m), SRC)).rejects.toMatchObject({ code: 'TRANSFER_TIMEOUT' });
    expect(f.stats.refused.malformed).toBeGreaterThanOrEqual(1);
    expect(chunksStored(edge)).toBe(0);
  });

  it('bad arguments are refused before anything is sent', async () => {
    const w = world();
    const f = await edgeFetcher(w.broker.client(EDGE), w.store());
    await expect(f.fetch('nope', SRC)).rejects.toMatchObject({ code: 'TRANSFER_BAD_INPUT' });
    await expect(f.fetch('aa'.repeat(32), 'not-a-key')).rejects.toMatchObject({ code: 'TRANSFER_BAD_INPUT' });
    expect(f.stats.requests).toBe(0);
  });
});

describe('blob server: hostile requests change nothing', () => {
  async function served(auto = true) {
    const w = world(auto);
    const store = w.store();
    const m = await store.put(prng(5)(200_000));
    const server = new BlobServer({ bus: w.broker.client(SRC), site: SITE, self: SRC, store, maxRequestsPerPeer: 2, maxHashesPerPeer: 100 });
    await server.start();
    cleanup.push(() => server.stop());
    const asker = w.broker.client(EDGE);
    const replies: Uint8Array[] = [];
    await asker.subscribe(T.blobFilters.putsTo(EDGE), (msg) => replies.push(msg.payload));
    if (!auto) await w.broker.settle();
    const ask = (payload: Uint8Array | string, from = EDGE) => asker.publish(T.blobGet(from, SRC), typeof payload === 'string' ? Buffer.from(payload) : payload, { qos: 1 });
    return { w, store, m, server, replies, ask, asker };
  }

  it('malformed, unknown and oversized requests and absurd counts are refused without an answer', async () => {
    const s = await served();
    const h = s.m.chunks[0]!.hash;
    await s.ask('not json');
    await s.ask(JSON.stringify({ kind: 'get', hashes: [] }));
    await s.ask(JSON.stringify({ kind: 'get', hashes: ['ZZ'] }));
    await s.ask(JSON.stringify({ kind: 'gimme', hashes: [h] }));
    await s.ask(JSON.stringify({ kind: 'get', hashes: [h], more: true }));
    await s.ask(JSON.stringify({ kind: 'get', hashes: Array(65).fill(h) }));
    await s.ask(JSON.stringify({ kind: 'get', hashes: Array(10_000).fill(h) }));
    await settle();
    expect(s.server.stats.refused.malformed).toBe(6);
    expect(s.server.stats.refused.oversized).toBe(1);
    expect(s.replies).toEqual([]);
    expect(s.server.stats.requests).toBe(0);
  });

  it('hashes it lacks are ignored; what it holds in the same request is sent', async () => {
    const s = await served();
    await s.ask(encodeGet(['ef'.repeat(32), s.m.chunks[0]!.hash]));
    await settle();
    expect(s.server.stats.lacked).toBe(1);
    expect(s.server.stats.pieces).toBe(1);
    expect(s.replies.length).toBe(1);
  });

  it('a requester gets at most its bound of queued requests; the rest are refused as busy', async () => {
    const s = await served(false);
    const hashes = s.m.chunks.map((c) => c.hash);
    // Delivered in one go (step() runs no event-loop turn): nothing is sent before the third arrives.
    await Promise.all([0, 1, 2, 3].map(() => s.ask(encodeGet(hashes.slice(0, 1)))));
    for (let i = 0; i < 4; i++) s.w.broker.step();
    await s.w.broker.settle();
    expect(s.server.stats.requests).toBe(2);
    expect(s.server.stats.refused.busy).toBe(2);
    expect(s.replies.length).toBe(2);
  });

  it('a request on a topic whose sender is not a key, or from a requester not allowed, is refused', async () => {
    const w = world();
    const store = w.store();
    const m = await store.put(prng(6)(10_000));
    const server = new BlobServer({ bus: w.broker.client(SRC), site: SITE, self: SRC, store, allow: (k) => k === OTHER });
    await server.start();
    cleanup.push(() => server.stop());
    const c = w.broker.client(EDGE);
    await c.publish(`${T.root}/blob/not-a-key/get/${SRC}`, encodeGet([m.chunks[0]!.hash]), { qos: 1 });
    await c.publish(T.blobGet(EDGE, SRC), encodeGet([m.chunks[0]!.hash]), { qos: 1 });
    await settle();
    expect(server.stats.refused['bad-topic']).toBe(1);
    expect(server.stats.refused.denied).toBe(1);
    expect(server.stats.parts).toBe(0);
  });
});

describe('held reports', () => {
  it('a report verifies on its node\'s topic; a forged, misplaced or malformed one is refused', () => {
    const key = testKey(12);
    const r = makeHeldReport(key, [{ manifest: 'aa'.repeat(32), version: '1.2.3' }], 1_000);
    const enc = (x: unknown) => Buffer.from(JSON.stringify(x));
    expect(checkHeldReport(SITE, T.blobHeld(EDGE), enc(r))).toEqual({ ok: true, report: r });
    expect(checkHeldReport(SITE, T.blobHeld(OTHER), enc(r))).toMatchObject({ ok: false });
    expect(checkHeldReport(SITE, T.blobHeld(EDGE), enc({ ...r, bundles: [] }))).toMatchObject({ ok: false, reason: expect.stringContaining('signature') });
    expect(checkHeldReport(SITE, T.blobHeld(EDGE), Buffer.from('{'))).toMatchObject({ ok: false });
    expect(checkHeldReport(SITE, T.blobHeld(EDGE), enc({ ...r, extra: 1 }))).toMatchObject({ ok: false });
    expect(checkHeldReport(SITE, T.blobHeld(EDGE), Buffer.alloc(70_000, 0x20))).toMatchObject({ ok: false });
  });
});
