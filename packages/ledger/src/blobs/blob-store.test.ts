import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { BlobStore, type BlobStoreOptions } from './blob-store.js';
import { BlobError } from './errors.js';
import { diff, uniqueChunks, type Manifest } from './manifest.js';
import { pieces, prng } from '@keymesh/testkit/bytes';
import { scratchDir } from '@keymesh/testkit/temp-files';

const KiB = 1024;
const MiB = 1024 * KiB;
const MIN = 16 * KiB;
const AVG = 64 * KiB;
const MAX = 256 * KiB;

const sha256hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const tmp = scratchDir('blobs');
let n = 0;
const open: BlobStore[] = [];
/** A fresh store in its own SQLite file under the temp dir. */
function newStore(opts: BlobStoreOptions = {}): BlobStore {
  const s = BlobStore.open(tmp.file(`store-${n++}.db`), opts);
  open.push(s);
  return s;
}

afterEach(() => {
  for (const s of open.splice(0)) s.close();
});
afterAll(() => tmp.remove());

async function expectBlobError(p: Promise<unknown> | (() => unknown), code: string): Promise<BlobError> {
  let caught: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(BlobError);
  expect((caught as BlobError).code).toBe(code);
  return caught as BlobError;
}

/** Sends `chunks` from one store to another the way a peer transfer would. */
function transfer(from: BlobStore, to: BlobStore, chunks: { hash: string }[]): number {
  let bytes = 0;
  for (const c of chunks) {
    const b = from.getChunk(c.hash);
    if (!b) throw new Error(`sender lacks ${c.hash}`);
    to.putChunk(c.hash, b);
    bytes += b.length;
  }
  return bytes;
}

describe('BlobStore round trip', () => {
  const rnd = prng(1);
  const sizes = [0, 1, 2, 100, MIN - 1, MIN, MIN + 1, AVG - 1, AVG, AVG + 1, MAX - 1, MAX, MAX + 1,
    2 * MAX, 2 * MAX + 1, 3 * MAX - 1, 1 * MiB + 12_345, 3 * MiB];

  it.each(sizes)('stores and returns %i random bytes, verified', async (size) => {
    const s = newStore();
    const data = rnd(size);
    const m = await s.put(data);
    expect(m.v).toBe(1);
    expect(m.size).toBe(size);
    expect(m.hash).toBe(sha256hex(data));
    expect(m.params).toEqual({ min: MIN, avg: AVG, max: MAX, level: 1 });
    expect(m.chunks.reduce((t, c) => t + c.size, 0)).toBe(size);
    for (const c of m.chunks) expect(c.size).toBeLessThanOrEqual(MAX);
    // every chunk but the last is at least min (FastCDC), and each is stored under its hash
    m.chunks.slice(0, -1).forEach((c) => expect(c.size).toBeGreaterThanOrEqual(MIN));
    let off = 0;
    for (const c of m.chunks) {
      expect(c.hash).toBe(sha256hex(data.subarray(off, off + c.size)));
      off += c.size;
    }
    expect((await s.getBytes(m)).equals(data)).toBe(true);
    expect(s.missing(m)).toEqual([]);
  });

  it('gives the same manifest however the input stream is split', async () => {
    const s = newStore();
    const data = rnd(2 * MiB + 777);
    const whole = await s.put(data, { pin: false });
    const streamed = await s.put(Readable.from(pieces(data, [1, 4093, 65_536, 300_001, 17])));
    expect(streamed).toEqual(whole);
  });

  it('streams through get() as a Readable of Buffers', async () => {
    const s = newStore();
    const data = rnd(MiB + 5);
    const m = await s.put(data);
    const parts: Buffer[] = [];
    const r = s.get(m);
    expect(r).toBeInstanceOf(Readable);
    for await (const b of r) parts.push(b as Buffer);
    expect(Buffer.concat(parts).equals(data)).toBe(true);
  });

  it('stores a chunk repeated inside one blob once (zeros cut at max)', async () => {
    const s = newStore();
    const data = Buffer.alloc(MiB + 10);
    const m = await s.put(data);
    expect(m.chunks.length).toBe(5);
    expect(uniqueChunks(m).length).toBe(2);
    expect(s.stats()).toMatchObject({ chunks: 2, bytes: MAX + 10 });
    expect((await s.getBytes(m)).equals(data)).toBe(true);
  });

  it('refuses input that is not bytes', async () => {
    const s = newStore();
    await expectBlobError(s.put('text' as unknown as Uint8Array), 'BLOB_BAD_INPUT');
    await expectBlobError(s.put(Readable.from(['text'])), 'BLOB_BAD_INPUT');
  });
});

describe('dedup and transfer', () => {
  it('stores the chunks of a blob put twice only once', async () => {
    const s = newStore();
    const data = prng(2)(4 * MiB);
    const a = await s.put(data);
    const before = s.stats();
    const b = await s.put(Readable.from(pieces(data, [100_000])));
    expect(b).toEqual(a);
    expect(s.stats()).toEqual(before);
    expect(before).toEqual({ chunks: uniqueChunks(a).length, bytes: 4 * MiB, manifests: 1, manifestBytes: 4 * MiB });
  });

  it('lists what a partial transfer still lacks, and completes it', async () => {
    const sender = newStore();
    const receiver = newStore();
    const data = prng(3)(3 * MiB);
    const m = await sender.put(data);
    receiver.pin(m); // pin first, so gc keeps the partial transfer
    const all = receiver.missing(m);
    expect(all).toEqual(uniqueChunks(m));
    const sent = all.filter((_, i) => i % 2 === 0);
    transfer(sender, receiver, sent);
    receiver.gc();
    const left = receiver.missing(m);
    expect(left).toEqual(all.filter((_, i) => i % 2 === 1));
    const err = await expectBlobError(() => receiver.get(m), 'BLOB_MISSING_CHUNKS');
    expect(err.details).toEqual({ blob: m.hash, missing: left.map((c) => c.hash) });
    transfer(sender, receiver, left);
    expect(receiver.missing(m)).toEqual([]);
    expect((await receiver.getBytes(m)).equals(data)).toBe(true);
  });

  it('refuses a received chunk whose bytes do not match its hash', async () => {
    const s = newStore();
    const bytes = prng(4)(1000);
    const hash = sha256hex(bytes);
    const bad = Buffer.from(bytes);
    bad[10]! ^= 1;
    const err = await expectBlobError(() => s.putChunk(hash, bad), 'BLOB_CHUNK_MISMATCH');
    expect(err.details).toMatchObject({ chunk: hash });
    expect(s.has(hash)).toBe(false);
    expect(s.putChunk(hash, bytes)).toBe(true);
    expect(s.putChunk(hash, bytes)).toBe(false);
    expect(s.getChunk(hash)?.equals(bytes)).toBe(true);
    await expectBlobError(() => s.has('ABC'), 'BLOB_BAD_INPUT');
  });

  it('ships under 10% of the bytes for an upgrade changing 5% of a 16 MiB bundle (DESIGN §12)', async () => {
    const rnd = prng(5);
    const size = 16 * MiB;
    const v1 = rnd(size);
    // 5% of the content changed in 4 places: 3 regions rewritten in place, and new bytes
    // inserted in a 4th place, which shifts everything after it (what content-defined cuts are for).
    const edit = Math.floor((0.05 * size) / 4);
    const v2 = Buffer.from(v1);
    for (const at of [0.1, 0.35, 0.85]) rnd(edit).copy(v2, Math.floor(at * size));
    const cut = Math.floor(0.6 * size);
    const upgraded = Buffer.concat([v2.subarray(0, cut), rnd(edit), v2.subarray(cut)]);
    let changed = edit; // the inserted bytes
    for (let i = 0; i < size; i++) if (v1[i] !== v2[i]) changed++;
    expect(changed / size).toBeGreaterThan(0.0495); // really 5% changed (random bytes rarely coincide)

    const coordinator = newStore();
    const pi = newStore();
    const m1 = await coordinator.put(v1);
    pi.pin(m1);
    transfer(coordinator, pi, pi.missing(m1));
    const m2 = await coordinator.put(upgraded);
    pi.pin(m2);
    const need = pi.missing(m2);
    const shipped = transfer(coordinator, pi, need);
    expect((await pi.getBytes(m2)).equals(upgraded)).toBe(true);

    const ratio = shipped / m2.size;
    expect(diff(m1, m2)).toMatchObject({ bytes: shipped, totalBytes: upgraded.length });
    expect(shipped).toBeGreaterThanOrEqual(changed); // at least the changed bytes themselves
    expect(ratio).toBeLessThan(0.1);
    console.log(`upgrade: ${changed} of ${m2.size} bytes changed in 4 places; shipped ${shipped} bytes in ` +
      `${need.length} of ${m2.chunks.length} chunks = ${(100 * ratio).toFixed(2)}% ` +
      `(${Math.round((shipped - changed) / 4 / KiB)} KiB of unchanged bytes re-sent per place)`);
  });
});

describe('gc', () => {
  it('removes exactly the chunks no pinned manifest refers to', async () => {
    const s = newStore();
    const rnd = prng(6);
    const shared = rnd(2 * MiB);
    const a = await s.put(Buffer.concat([shared, rnd(MiB)]));
    const b = await s.put(Buffer.concat([shared, rnd(MiB)]));
    const c = await s.put(rnd(MiB), { pin: false });
    const stray = rnd(5000);
    s.putChunk(sha256hex(stray), stray);
    const aHashes = new Set(a.chunks.map((x) => x.hash));
    const bHashes = new Set(b.chunks.map((x) => x.hash));
    const common = [...aHashes].filter((h) => bHashes.has(h));
    expect(common.length).toBeGreaterThan(10); // the shared prefix deduplicates
    const onlyA = uniqueChunks(a).filter((x) => !bHashes.has(x.hash));
    const before = s.stats();

    // c and the stray chunk are unpinned: gc with c in `keep` removes only the stray chunk
    expect(s.gc({ keep: [c] })).toEqual({ removedChunks: 1, removedBytes: 5000 });
    expect(s.missing(c)).toEqual([]);
    // now c goes too
    expect(s.gc()).toEqual({ removedChunks: uniqueChunks(c).length, removedBytes: MiB });
    expect(s.missing(c)).toEqual(uniqueChunks(c));

    expect(s.unpin(a)).toBe(true);
    expect(s.unpin(a)).toBe(false);
    const r = s.gc();
    expect(r).toEqual({ removedChunks: onlyA.length, removedBytes: onlyA.reduce((t, x) => t + x.size, 0) });
    for (const x of onlyA) expect(s.has(x.hash)).toBe(false);
    expect(s.missing(b)).toEqual([]);
    expect(s.stats()).toMatchObject({
      chunks: before.chunks - 1 - uniqueChunks(c).length - onlyA.length,
      manifests: 1,
      manifestBytes: b.size,
    });
    expect(s.gc()).toEqual({ removedChunks: 0, removedBytes: 0 });
    expect(s.pinned().map((p) => p.manifest)).toEqual([b]);
  });

  it('keeps the chunks of a put() still in progress', async () => {
    const s = newStore({ batchBytes: 64 * KiB }); // commit chunks as they come
    // put() cuts and stores a slab (8 MiB) after it hands the next one to its hashing thread, so
    // the chunks of the first slab are committed once 16 MiB have been read.
    const data = prng(7)(20 * MiB);
    let resume!: () => void;
    const paused = new Promise<void>((r) => (resume = r));
    let reachedPause!: () => void;
    const atPause = new Promise<void>((r) => (reachedPause = r));
    async function* source() {
      yield data.subarray(0, 18 * MiB);
      reachedPause();
      await paused;
      yield data.subarray(18 * MiB);
    }
    const put = s.put(source(), { pin: false });
    await atPause;
    const stored = s.stats().chunks;
    expect(stored).toBeGreaterThan(5); // the first slab is committed, no manifest refers to it yet
    expect(s.gc().removedChunks).toBe(0);
    resume();
    const m = await put;
    expect(s.missing(m)).toEqual([]);
    expect((await s.getBytes(m)).equals(data)).toBe(true);
  });
});

describe('corruption', () => {
  let s: BlobStore;
  let path: string;
  let data: Buffer;
  let m: Manifest;
  beforeAll(async () => {
    path = tmp.file('corrupt.db');
    s = BlobStore.open(path);
    data = prng(8)(MiB + 3);
    m = await s.put(data);
  });
  afterAll(() => s.close());

  /** Rewrites a stored chunk behind the store's back, as disk damage would. */
  function damage(hash: string, edit: (b: Buffer) => Buffer): void {
    const raw = new Database(path);
    const row = raw.prepare('SELECT data FROM blob_chunks WHERE hash = ?').get(Buffer.from(hash, 'hex')) as { data: Buffer };
    raw.prepare('UPDATE blob_chunks SET data = ? WHERE hash = ?').run(edit(Buffer.from(row.data)), Buffer.from(hash, 'hex'));
    raw.close();
  }

  it('detects a flipped bit while streaming and names the chunk', async () => {
    const victim = m.chunks[2]!;
    damage(victim.hash, (b) => {
      b[b.length >> 1]! ^= 0x04;
      return b;
    });
    const r = s.get(m);
    const got: Buffer[] = [];
    const err = await expectBlobError((async () => { for await (const b of r) got.push(b as Buffer); })(), 'BLOB_CHUNK_CORRUPT');
    expect(err.details).toMatchObject({ chunk: victim.hash, index: 2 });
    // nothing from the damaged chunk on was delivered
    expect(Buffer.concat(got).length).toBeLessThanOrEqual(m.chunks[0]!.size + m.chunks[1]!.size);
    await expectBlobError(() => s.getChunk(victim.hash), 'BLOB_CHUNK_CORRUPT');
  });

  it('detects a truncated chunk, drops damaged chunks on verify, and heals from a good copy', async () => {
    const victim = m.chunks[5]!;
    damage(victim.hash, (b) => b.subarray(0, b.length - 1));
    await expectBlobError(s.getBytes(m), 'BLOB_CHUNK_CORRUPT');
    const v = s.verify({ drop: true });
    expect(v.checked).toBe(uniqueChunks(m).length);
    expect(v.corrupt.sort()).toEqual([m.chunks[2]!.hash, victim.hash].sort());
    expect(v.dropped).toBe(true);
    expect(s.missing(m).map((c) => c.hash)).toEqual([m.chunks[2]!.hash, victim.hash]);
    // re-fetch from a peer that has it intact
    const peer = newStore();
    await peer.put(data);
    transfer(peer, s, s.missing(m));
    expect((await s.getBytes(m)).equals(data)).toBe(true);
    expect(s.verify().corrupt).toEqual([]);
  });
});

describe('bad manifests', () => {
  it('refuses a malformed manifest with BLOB_BAD_MANIFEST naming the field', async () => {
    const s = newStore();
    const m = await s.put(prng(9)(300 * KiB));
    const err = await expectBlobError(() => s.get({ ...m, size: m.size + 1 }), 'BLOB_BAD_MANIFEST');
    expect(err.details).toMatchObject({ issues: expect.arrayContaining([expect.objectContaining({ path: ['size'] })]) });
    const bad = { ...m, chunks: [{ hash: 'zz', size: 1 }, ...m.chunks.slice(1)] };
    const e2 = await expectBlobError(() => s.missing(bad), 'BLOB_BAD_MANIFEST');
    expect(e2.details).toMatchObject({ issues: expect.arrayContaining([expect.objectContaining({ path: ['chunks', 0, 'hash'] })]) });
    await expectBlobError(() => s.pin({ ...m, v: 2 } as unknown as Manifest), 'BLOB_BAD_MANIFEST');
  });

  it('errors with BLOB_HASH_MISMATCH when the chunks verify but the blob hash does not', async () => {
    const s = newStore();
    const m = await s.put(prng(10)(500 * KiB));
    const wrong = { ...m, hash: sha256hex(Buffer.from('something else')) };
    const err = await expectBlobError(s.getBytes(wrong), 'BLOB_HASH_MISMATCH');
    expect(err.details).toEqual({ blob: wrong.hash, actual: m.hash });
  });
});

describe('sharing the ledger database', () => {
  it('keeps to blob_ tables and its own version row, leaving PRAGMA user_version alone', async () => {
    const path = tmp.file('shared.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('user_version = 7');
    db.exec('CREATE TABLE entries (id INTEGER PRIMARY KEY)');
    const s = new BlobStore(db);
    const m = await s.put(prng(11)(200 * KiB));
    s.close();
    expect(db.open).toBe(true); // a shared Database stays open
    expect(db.pragma('user_version', { simple: true })).toBe(7);
    const tables = (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all() as string[]);
    expect(tables).toEqual(['blob_chunks', 'blob_manifests', 'blob_meta', 'blob_refs', 'entries']);
    expect(db.prepare("SELECT value FROM blob_meta WHERE key = 'blob_schema_version'").pluck().get()).toBe(1);
    // reopening finds the blob again
    const again = new BlobStore(db);
    expect(again.pinned().map((p) => p.manifest)).toEqual([m]);
    again.close();
    await expectBlobError(() => again.has(m.chunks[0]!.hash), 'BLOB_CLOSED');
    // a newer schema is refused, not misread
    db.prepare("UPDATE blob_meta SET value = 99 WHERE key = 'blob_schema_version'").run();
    const err = await expectBlobError(() => new BlobStore(db), 'BLOB_SCHEMA_TOO_NEW');
    expect(err.details).toMatchObject({ version: 99 });
    db.close();
  });
});
