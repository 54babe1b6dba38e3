/**
 * The blob store's SQLite tables and the statements over them. The tables are prefixed `blob_`
 * and versioned by a `blob_schema_version` row in `blob_meta`, so they can live in the ledger's
 * database file without touching its PRAGMA user_version.
 */
import type Database from 'better-sqlite3';
import { BlobError } from './errors.js';

export const BLOB_SCHEMA_VERSION = 1;

export interface ChunkRow {
  size: number;
  data: Buffer;
}

export interface BlobStatements {
  has: Database.Statement<[Buffer]>;
  get: Database.Statement<[Buffer], ChunkRow>;
  insert: Database.Statement<[Buffer, number, Buffer]>;
  insertManifest: Database.Statement<[string, string, number, number, string, number]>;
  insertRef: Database.Statement<[string, Buffer]>;
  deleteRefs: Database.Statement<[string]>;
  deleteManifest: Database.Statement<[string]>;
  deleteChunk: Database.Statement<[number]>;
  unreferenced: Database.Statement<[], { id: number; hash: Buffer; size: number }>;
}

export function prepareStatements(d: Database.Database): BlobStatements {
  return {
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

/** Creates or upgrades the blob tables; versioned in blob_meta, not PRAGMA user_version. */
export function migrate(db: Database.Database): void {
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
