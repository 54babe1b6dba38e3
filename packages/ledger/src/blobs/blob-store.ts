/**
 * Content-addressed blob store (DESIGN §8). Blobs are cut by FastCDC and each chunk is kept
 * once, by its SHA-256, in SQLite BLOB rows (measured against one file per chunk in
 * bench/suites/blobs.mjs: twice the durable write speed, and chunks, pins and their references
 * change together in one transaction). The tables are prefixed `blob_` and versioned by a
 * `blob_schema_version` row in `blob_meta`, so they can live in the ledger's database file
 * without touching its PRAGMA user_version.
 *
 * Liveness: a chunk is kept while a pinned manifest refers to it. put() pins what it stores
 * (unless told not to); a node receiving a blob pins the manifest first, then fetches
 * missing(manifest) with putChunk(), so gc never removes a partial transfer. gc() also keeps the
 * chunks of manifests passed in `keep`, and those of put() calls still running in this process.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { Chunker, DEFAULTS, LIMITS, resolveParams, type ChunkSink, type ImplName } from '@keymesh/cdc-native';
import { BlobError } from './errors.js';
import {
  MANIFEST_VERSION, manifestId, parseManifest, uniqueChunks,
  type ChunkRef, type ChunkingParams, type Manifest,
} from './manifest.js';

export const BLOB_SCHEMA_VERSION = 1;

/** What put() reads: bytes, or a (async) iterable of byte buffers such as a Node Readable. */
export type BlobSource = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

export interface BlobStoreOptions {
  /** FastCDC parameters for put(); default DESIGN §8: min/avg/max 16/64/256 KiB, level 1. */
  chunking?: Partial<ChunkingParams>;
  /**
   * fsync policy when the store opens the database itself (a path): 'full' (default; each
   * commit is on disk when put() returns) or 'normal' (WAL stays consistent, the last commits
   * may be lost on power loss). A Database passed in keeps the pragmas its owner set.
   */
  synchronous?: 'full' | 'normal';
  /** New chunk bytes put() buffers before one write transaction; default 4 MiB. */
  batchBytes?: number;
  /** Chunker implementation ('native' | 'ts'); default: whichever @keymesh/cdc-native picked. */
  impl?: ImplName;
}

export interface PutOptions {
  /** Pin the manifest so gc keeps the blob (default true). */
  pin?: boolean;
}

export interface PinnedManifest {
  id: string;
  manifest: Manifest;
  pinnedAt: number;
}

export interface BlobStats {
  /** Distinct chunks stored, and their bytes. */
  chunks: number;
  bytes: number;
  /** Pinned manifests, and the sum of their blob sizes (before dedup). */
  manifests: number;
  manifestBytes: number;
}

export interface GcOptions {
  /** Manifests to keep besides the pinned ones (e.g. ones the caller holds but did not pin). */
  keep?: Manifest[];
}

export interface GcResult {
  removedChunks: number;
  removedBytes: number;
}

export interface VerifyResult {
  checked: number;
  /** Hashes of chunks whose bytes no longer match their hash. */
  corrupt: string[];
  /** Whether they were deleted (verify({ drop: true })), so missing() lists them for a re-fetch. */
  dropped: boolean;
}

interface ChunkRow {
  size: number;
  data: Buffer;
}

const HEX64 = /^[0-9a-f]{64}$/;
const DEFAULT_BATCH_BYTES = 4 << 20;
const MISSING_LISTED = 3;

const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

function hashKey(hash: string, what: string): Buffer {
  if (typeof hash !== 'string' || !HEX64.test(hash)) {
    throw new BlobError('BLOB_BAD_INPUT',
      `${what} must be a SHA-256 as 64 lower-case hex digits, got ${JSON.stringify(String(hash)).slice(0, 80)}.`);
  }
  return Buffer.from(hash, 'hex');
}

function missingError(m: Manifest, absent: ChunkRef[]): BlobError {
  const bytes = absent.reduce((s, c) => s + c.size, 0);
  const listed = absent.slice(0, MISSING_LISTED).map((c) => c.hash.slice(0, 16)).join(', ');
  return new BlobError('BLOB_MISSING_CHUNKS',
    `${absent.length} of the ${m.chunks.length} chunks of blob ${m.hash.slice(0, 16)}… (${bytes} bytes) ` +
    `are absent (${listed}${absent.length > MISSING_LISTED ? ', …' : ''}); pin the manifest, fetch ` +
    'store.missing(manifest) from a peer with putChunk(), then read it again.',
    { blob: m.hash, missing: absent.map((c) => c.hash) });
}

function corruptError(hash: string, detail: string, index?: number): BlobError {
  return new BlobError('BLOB_CHUNK_CORRUPT',
    `chunk ${hash}${index === undefined ? '' : ` (#${index} of the blob)`} ${detail}; the storage is ` +
    'damaged. Run store.verify({ drop: true }) to remove damaged chunks, then fetch ' +
    'store.missing(manifest) again from a peer.',
    { chunk: hash, ...(index === undefined ? {} : { index }) });
}

/** Bytes of a stored row, checked against the hash they are stored under. */
function verifiedRow(row: ChunkRow, hash: string, expectedSize: number | undefined, index?: number): Buffer {
  const size = expectedSize ?? row.size;
  if (row.data.length !== size) {
    throw corruptError(hash, `holds ${row.data.length} bytes where ${size} were stored`, index);
  }
  const actual = sha256(row.data).toString('hex');
  if (actual !== hash) throw corruptError(hash, `now hashes to ${actual}`, index);
  return row.data;
}

async function* iterate(source: BlobSource): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield source;
    return;
  }
  if (source === null || typeof source !== 'object' ||
    !(Symbol.asyncIterator in source || Symbol.iterator in source)) {
    throw new BlobError('BLOB_BAD_INPUT',
      `put() takes a Uint8Array or an (async) iterable of them such as a Readable, got ${source === null ? 'null' : typeof source}.`);
  }
  for await (const buf of source as AsyncIterable<unknown>) {
    if (!(buf instanceof Uint8Array)) {
      throw new BlobError('BLOB_BAD_INPUT',
        `the source yielded a ${typeof buf}, not bytes; do not set an encoding on the stream, or wrap text with Buffer.from(text).`);
    }
    yield buf;
  }
}

export class BlobStore {
  readonly db: Database.Database;
  /** The FastCDC parameters put() cuts with. */
  readonly params: ChunkingParams;
  private readonly owned: boolean;
  private readonly batchBytes: number;
  private readonly impl: ImplName | undefined;
  private closed = false;
  /** Chunks of put() calls in progress (stored or found, manifest not yet pinned): gc keeps them. */
  private readonly leases = new Set<Set<string>>();

  private readonly stmt: {
    has: Database.Statement<[Buffer]>;
    get: Database.Statement<[Buffer], ChunkRow>;
    insert: Database.Statement<[Buffer, number, Buffer]>;
    insertManifest: Database.Statement<[string, string, number, number, string, number]>;
    insertRef: Database.Statement<[string, Buffer]>;
    deleteRefs: Database.Statement<[string]>;
    deleteManifest: Database.Statement<[string]>;
    deleteChunk: Database.Statement<[number]>;
    unreferenced: Database.Statement<[], { id: number; hash: Buffer; size: number }>;
  };

  /** Opens (creating if needed) a store in its own database file. */
  static open(path: string, opts: BlobStoreOptions = {}): BlobStore {
    return new BlobStore(path, opts);
  }

  /** `db`: a path (the store opens and later closes it), or an open better-sqlite3 Database to share. */
  constructor(db: Database.Database | string, opts: BlobStoreOptions = {}) {
    const p = resolveParams({ ...DEFAULTS, ...opts.chunking, seed: 0 });
    this.params = { min: p.min, avg: p.avg, max: p.max, level: p.level };
    this.batchBytes = opts.batchBytes ?? DEFAULT_BATCH_BYTES;
    this.impl = opts.impl;
    if (typeof db === 'string') {
      this.db = new Database(db);
      this.owned = true;
      try {
        this.db.pragma('journal_mode = WAL');
        this.db.pragma(`synchronous = ${opts.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
        this.db.pragma('busy_timeout = 5000');
        migrate(this.db);
      } catch (err) {
        this.db.close();
        throw err;
      }
    } else {
      this.db = db;
      this.owned = false;
      migrate(this.db);
    }
    const d = this.db;
    this.stmt = {
      has: d.prepare<[Buffer]>('SELECT 1 FROM blob_chunks WHERE hash = ?').pluck(),
      get: d.prepare<[Buffer], ChunkRow>('SELECT size, data FROM blob_chunks WHERE hash = ?'),
      insert: d.prepare<[Buffer, number, Buffer]>('INSERT OR IGNORE INTO blob_chunks (hash, size, data) VALUES (?, ?, ?)'),
      insertManifest: d.prepare<[string, string, number, number, string, number]>('INSERT OR IGNORE INTO blob_manifests (id, hash, size, chunk_count, manifest, pinned_at) VALUES (?, ?, ?, ?, ?, ?)'),
      insertRef: d.prepare<[string, Buffer]>('INSERT OR IGNORE INTO blob_refs (manifest_id, chunk_hash) VALUES (?, ?)'),
      deleteRefs: d.prepare<[string]>('DELETE FROM blob_refs WHERE manifest_id = ?'),
      deleteManifest: d.prepare<[string]>('DELETE FROM blob_manifests WHERE id = ?'),
      deleteChunk: d.prepare<[number]>('DELETE FROM blob_chunks WHERE id = ?'),
      unreferenced: d.prepare<[], { id: number; hash: Buffer; size: number }>('SELECT id, hash, size FROM blob_chunks c WHERE NOT EXISTS (SELECT 1 FROM blob_refs r WHERE r.chunk_hash = c.hash)'),
    };
  }

  /**
   * Chunks and stores a blob; returns its manifest (pinned unless `pin: false`). Chunks already
   * present are not written again. New chunks are committed in batches of about `batchBytes`.
   */
  async put(source: BlobSource, opts: PutOptions = {}): Promise<Manifest> {
    this.checkOpen();
    const chunker = new Chunker(this.impl ? { ...this.params, impl: this.impl } : this.params);
    const whole = createHash('sha256');
    const chunks: ChunkRef[] = [];
    const lease = new Set<string>();
    this.leases.add(lease);
    let batch: [Buffer, Buffer][] = [];
    let pending = 0;
    let size = 0;
    const flush = () => {
      if (batch.length === 0) return;
      this.checkOpen();
      const items = batch;
      batch = [];
      pending = 0;
      this.db.transaction(() => {
        for (const [h, b] of items) this.stmt.insert.run(h, b.length, b);
      })();
    };
    const sink: ChunkSink = (bytes) => {
      const digest = sha256(bytes);
      const hex = digest.toString('hex');
      chunks.push({ hash: hex, size: bytes.length });
      if (lease.has(hex)) return;
      lease.add(hex); // from here on gc keeps it, whether stored already or queued below
      if (this.stmt.has.get(digest) !== undefined) return;
      // A copy: the view may point into the chunker's or the caller's reused buffer.
      batch.push([digest, Buffer.from(bytes)]);
      pending += bytes.length;
    };
    try {
      for await (const buf of iterate(source)) {
        whole.update(buf);
        size += buf.length;
        chunker.pushTo(buf, sink);
        if (pending >= this.batchBytes) flush();
      }
      chunker.finishTo(sink);
      flush();
      const manifest: Manifest = {
        v: MANIFEST_VERSION, size, hash: whole.digest('hex'), chunks, params: { ...this.params },
      };
      if (opts.pin !== false) this.pin(manifest);
      return manifest;
    } finally {
      this.leases.delete(lease);
    }
  }

  /** Whether the chunk with this SHA-256 (hex) is stored. */
  has(hash: string): boolean {
    this.checkOpen();
    return this.stmt.has.get(hashKey(hash, 'the chunk hash')) !== undefined;
  }

  /**
   * Stores a chunk received from a peer after checking that `bytes` hash to `hash`; returns
   * true if it was new. Throws BLOB_CHUNK_MISMATCH (nothing stored) if they do not.
   */
  putChunk(hash: string, bytes: Uint8Array): boolean {
    this.checkOpen();
    const key = hashKey(hash, 'the chunk hash');
    if (!(bytes instanceof Uint8Array)) {
      throw new BlobError('BLOB_BAD_INPUT', `putChunk() takes the chunk as a Uint8Array, got ${typeof bytes}.`);
    }
    if (bytes.length === 0 || bytes.length > LIMITS.max.high) {
      throw new BlobError('BLOB_CHUNK_MISMATCH',
        `chunk ${hash} has ${bytes.length} bytes, outside 1…${LIMITS.max.high}; the peer sent something ` +
        'that is not a chunk: fetch it again or from another node.', { chunk: hash });
    }
    const actual = sha256(bytes).toString('hex');
    if (actual !== hash) {
      throw new BlobError('BLOB_CHUNK_MISMATCH',
        `the ${bytes.length} bytes received for chunk ${hash} hash to ${actual}; the transfer or the ` +
        'peer is faulty: fetch the chunk again or from another node.', { chunk: hash, actual });
    }
    return this.stmt.insert.run(key, bytes.length, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)).changes > 0;
  }

  /** A stored chunk's bytes, verified against its hash; undefined if absent. */
  getChunk(hash: string): Buffer | undefined {
    this.checkOpen();
    const row = this.stmt.get.get(hashKey(hash, 'the chunk hash'));
    return row === undefined ? undefined : verifiedRow(row, hash, undefined);
  }

  /** The manifest's distinct chunks that are not stored here, in blob order. */
  missing(manifest: Manifest): ChunkRef[] {
    this.checkOpen();
    return this.absent(parseManifest(manifest));
  }

  private absent(m: Manifest): ChunkRef[] {
    return uniqueChunks(m).filter((c) => this.stmt.has.get(Buffer.from(c.hash, 'hex')) === undefined);
  }

  /**
   * The blob as a byte stream. Each chunk is re-hashed as it is read, and the whole blob at the
   * end: the stream errors with BLOB_CHUNK_CORRUPT naming the chunk, or BLOB_HASH_MISMATCH.
   * Throws BLOB_MISSING_CHUNKS at once if chunks are absent (see missing()).
   */
  get(manifest: Manifest): Readable {
    this.checkOpen();
    const m = parseManifest(manifest);
    const absent = this.absent(m);
    if (absent.length > 0) throw missingError(m, absent);
    return Readable.from(this.verifiedChunks(m), { objectMode: false });
  }

  /** The whole blob in memory, verified like get(). */
  async getBytes(manifest: Manifest): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const b of this.get(manifest)) parts.push(b as Buffer);
    return Buffer.concat(parts);
  }

  private *verifiedChunks(m: Manifest): Generator<Buffer> {
    const whole = createHash('sha256');
    for (let i = 0; i < m.chunks.length; i++) {
      const c = m.chunks[i]!;
      this.checkOpen();
      const row = this.stmt.get.get(Buffer.from(c.hash, 'hex'));
      if (row === undefined) throw missingError(m, [c]); // removed while streaming
      const data = verifiedRow(row, c.hash, c.size, i);
      whole.update(data);
      yield data;
    }
    const actual = whole.digest('hex');
    if (actual !== m.hash) {
      throw new BlobError('BLOB_HASH_MISMATCH',
        `every chunk verified but the blob hashes to ${actual}, not ${m.hash}; the manifest lists the ` +
        'wrong chunks (it was built wrongly or altered): get the manifest again from its source.',
        { blob: m.hash, actual });
    }
  }

  /**
   * Records the manifest so gc keeps its chunks; its chunks need not be present yet (pin before
   * fetching). Idempotent; returns the manifest id (see manifestId()).
   */
  pin(manifest: Manifest): string {
    this.checkOpen();
    const m = parseManifest(manifest);
    const id = manifestId(m);
    this.db.transaction(() => {
      const r = this.stmt.insertManifest.run(id, m.hash, m.size, m.chunks.length, JSON.stringify(m), Date.now());
      if (r.changes === 0) return;
      for (const c of uniqueChunks(m)) this.stmt.insertRef.run(id, Buffer.from(c.hash, 'hex'));
    })();
    return id;
  }

  /** Forgets a pinned manifest (by manifest or id); its chunks go at the next gc unless shared. */
  unpin(manifest: Manifest | string): boolean {
    this.checkOpen();
    const id = typeof manifest === 'string' ? manifest : manifestId(parseManifest(manifest));
    return this.db.transaction(() => {
      this.stmt.deleteRefs.run(id);
      return this.stmt.deleteManifest.run(id).changes > 0;
    })();
  }

  /** The pinned manifests, oldest first. */
  pinned(): PinnedManifest[] {
    this.checkOpen();
    const rows = this.db.prepare('SELECT id, manifest, pinned_at AS pinnedAt FROM blob_manifests ORDER BY pinned_at, id')
      .all() as { id: string; manifest: string; pinnedAt: number }[];
    return rows.map((r) => ({ id: r.id, manifest: parseManifest(r.manifest), pinnedAt: r.pinnedAt }));
  }

  /**
   * Deletes every chunk that no pinned manifest, no manifest in `keep` and no running put()
   * refers to, in one transaction.
   */
  gc(opts: GcOptions = {}): GcResult {
    this.checkOpen();
    const live = new Set<string>();
    for (const m of opts.keep ?? []) for (const c of parseManifest(m).chunks) live.add(c.hash);
    for (const lease of this.leases) for (const h of lease) live.add(h);
    return this.db.transaction(() => {
      let removedChunks = 0;
      let removedBytes = 0;
      for (const row of this.stmt.unreferenced.all()) {
        if (live.has(row.hash.toString('hex'))) continue;
        this.stmt.deleteChunk.run(row.id);
        removedChunks++;
        removedBytes += row.size;
      }
      return { removedChunks, removedBytes };
    })();
  }

  /** Re-hashes every stored chunk; with `drop`, deletes the damaged ones so they can be re-fetched. */
  verify(opts: { drop?: boolean } = {}): VerifyResult {
    this.checkOpen();
    const ids = this.db.prepare('SELECT id FROM blob_chunks ORDER BY id').pluck().all() as number[];
    const byId = this.db.prepare('SELECT hash, size, data FROM blob_chunks WHERE id = ?');
    const corrupt: { id: number; hash: string }[] = [];
    for (const id of ids) {
      const row = byId.get(id) as (ChunkRow & { hash: Buffer }) | undefined;
      if (row === undefined) continue;
      const hash = row.hash.toString('hex');
      if (row.data.length !== row.size || sha256(row.data).toString('hex') !== hash) corrupt.push({ id, hash });
    }
    const drop = opts.drop === true && corrupt.length > 0;
    if (drop) this.db.transaction(() => { for (const c of corrupt) this.stmt.deleteChunk.run(c.id); })();
    return { checked: ids.length, corrupt: corrupt.map((c) => c.hash), dropped: drop };
  }

  stats(): BlobStats {
    this.checkOpen();
    const c = this.db.prepare('SELECT count(*) AS n, coalesce(sum(size), 0) AS b FROM blob_chunks').get() as { n: number; b: number };
    const m = this.db.prepare('SELECT count(*) AS n, coalesce(sum(size), 0) AS b FROM blob_manifests').get() as { n: number; b: number };
    return { chunks: c.n, bytes: c.b, manifests: m.n, manifestBytes: m.b };
  }

  /** Closes the database if the store opened it; a shared Database stays open. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.owned) this.db.close();
  }

  private checkOpen(): void {
    if (this.closed || !this.db.open) {
      throw new BlobError('BLOB_CLOSED', 'the store (or its database) was closed; open a new BlobStore.');
    }
  }
}

/** Creates or upgrades the blob tables; versioned in blob_meta, not PRAGMA user_version. */
function migrate(db: Database.Database): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS blob_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)');
    const row = db.prepare("SELECT value FROM blob_meta WHERE key = 'blob_schema_version'").get() as { value: number } | undefined;
    const from = row?.value ?? 0;
    if (from > BLOB_SCHEMA_VERSION) {
      throw new BlobError('BLOB_SCHEMA_TOO_NEW',
        `the database's blob tables are at version ${from}, this code knows up to ${BLOB_SCHEMA_VERSION}; ` +
        'upgrade Keymesh on this node (or open a copy of the file with the newer version).',
        { version: from, supported: BLOB_SCHEMA_VERSION });
    }
    if (from < 1) {
      // hash and size come before data, so scans that skip data never read overflow pages.
      db.exec(`
        CREATE TABLE blob_chunks (
          id INTEGER PRIMARY KEY,
          hash BLOB NOT NULL UNIQUE,
          size INTEGER NOT NULL,
          data BLOB NOT NULL
        );
        CREATE TABLE blob_manifests (
          id TEXT PRIMARY KEY,
          hash TEXT NOT NULL,
          size INTEGER NOT NULL,
          chunk_count INTEGER NOT NULL,
          manifest TEXT NOT NULL,
          pinned_at INTEGER NOT NULL
        );
        CREATE TABLE blob_refs (
          manifest_id TEXT NOT NULL,
          chunk_hash BLOB NOT NULL,
          PRIMARY KEY (manifest_id, chunk_hash)
        ) WITHOUT ROWID;
        CREATE INDEX blob_refs_chunk ON blob_refs (chunk_hash);
      `);
    }
    db.prepare("INSERT OR REPLACE INTO blob_meta (key, value) VALUES ('blob_schema_version', ?)").run(BLOB_SCHEMA_VERSION);
  }).immediate();
}
