/**
 * Content-addressed blob store (DESIGN §8). Blobs are cut by FastCDC and each chunk is kept
 * once, by its SHA-256, in SQLite BLOB rows (measured against one file per chunk in
 * bench/suites/blobs.mjs: twice the durable write speed, and chunks, pins and their references
 * change together in one transaction). The tables are in tables.ts, put()'s pipeline in put.ts.
 *
 * Liveness: a chunk is kept while a pinned manifest refers to it. put() pins what it stores
 * (unless told not to); a node receiving a blob pins the manifest first, then fetches
 * missing(manifest) with putChunk(), so gc never removes a partial transfer. gc() also keeps the
 * chunks of manifests passed in `keep`, and those of put() calls still running in this process.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { DEFAULTS, LIMITS, resolveParams, type ImplName } from '@keymesh/cdc-native';
import { hashKey, missingError, sha256, verifiedRow } from './chunk-checks.js';
import { BlobError } from './errors.js';
import {
  manifestId, parseManifest, uniqueChunks,
  type ChunkRef, type ChunkingParams, type Manifest,
} from './manifest.js';
import { HashThread } from './hasher.js';
import { putBlob, type BlobSource, type PutContext } from './put.js';
import { migrate, prepareStatements, type BlobStatements, type ChunkRow } from './tables.js';
import type {
  BlobStats, BlobStoreOptions, GcOptions, GcResult, PinnedManifest, PutOptions, VerifyResult,
} from './types.js';

export { BLOB_SCHEMA_VERSION } from './tables.js';
export type { BlobSource } from './put.js';
export type * from './types.js';

const DEFAULT_BATCH_BYTES = 4 << 20;

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
  /** put()'s second thread, started by the first blob larger than one slab. */
  private readonly hasher = new HashThread();

  private readonly stmt: BlobStatements;

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
    this.stmt = prepareStatements(this.db);
  }

  /**
   * Chunks and stores a blob; returns its manifest (pinned unless `pin: false`). Chunks already
   * present are not written again. New chunks are committed in batches of about `batchBytes`.
   */
  async put(source: BlobSource, opts: PutOptions = {}): Promise<Manifest> {
    return putBlob(this.putContext(), source, opts.pin !== false);
  }

  private putContext(): PutContext {
    return {
      db: this.db, stmt: this.stmt, params: this.params, impl: this.impl, batchBytes: this.batchBytes,
      leases: this.leases, hasher: this.hasher, checkOpen: () => this.checkOpen(), pin: (m) => this.pin(m),
    };
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
    this.hasher.close(closedError());
    if (this.owned) this.db.close();
  }

  private checkOpen(): void {
    if (this.closed || !this.db.open) {
      throw closedError();
    }
  }
}

function closedError(): BlobError {
  return new BlobError('BLOB_CLOSED', 'the store (or its database) was closed; open a new BlobStore.');
}
