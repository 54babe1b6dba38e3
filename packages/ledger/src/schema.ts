/**
 * SQLite schema and migrations. `PRAGMA user_version` is the schema version; each migration runs
 * once, in a transaction, so a Pi's database upgrades in place when a new release opens it.
 *
 * Entries are keyed by (author, seq) (WITHOUT ROWID: the feed order is the storage order, so
 * appends go to the end of each author's range). They are findable by hash through `h8`, the
 * first 8 bytes of the hash as an integer, with a non-unique index: a unique index on the
 * random 32-byte hash made inserts ~8x slower (DESIGN note); an 8-byte integer key keeps the
 * index small and the full hash is compared after the lookup.
 */
import type Database from 'better-sqlite3';

export const MIGRATIONS: readonly string[] = [
  // 1: first release
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE entries (
    author TEXT NOT NULL,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL,
    h8 INTEGER NOT NULL,
    type TEXT NOT NULL,
    pkey TEXT,                 -- policy key, NULL for access events
    hlc_wall INTEGER NOT NULL,
    hlc_logical INTEGER NOT NULL,
    json TEXT NOT NULL,        -- the canonical encoding, signature included
    PRIMARY KEY (author, seq)
  ) WITHOUT ROWID;
  CREATE INDEX entries_h8 ON entries (h8);
  CREATE TABLE feeds (author TEXT PRIMARY KEY, seq INTEGER NOT NULL, hash BLOB NOT NULL) WITHOUT ROWID;
  CREATE TABLE pending (
    author TEXT NOT NULL, seq INTEGER NOT NULL, hash BLOB NOT NULL, json TEXT NOT NULL, received_at INTEGER NOT NULL,
    PRIMARY KEY (author, seq, hash)
  ) WITHOUT ROWID;
  CREATE TABLE policy (pkey TEXT PRIMARY KEY, value TEXT NOT NULL, heads TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE events (
    author TEXT NOT NULL, seq INTEGER NOT NULL, hash BLOB NOT NULL, type TEXT NOT NULL,
    resource TEXT NOT NULL, member TEXT, at INTEGER NOT NULL, allow INTEGER, detail TEXT NOT NULL,
    PRIMARY KEY (author, seq)
  ) WITHOUT ROWID;
  CREATE INDEX events_at ON events (at);
  CREATE INDEX events_member ON events (member, at);
  CREATE INDEX events_resource ON events (resource, at);
  CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, author TEXT, seq INTEGER,
    code TEXT NOT NULL, reason TEXT NOT NULL, raw TEXT NOT NULL
  );
  CREATE TABLE forks (
    author TEXT NOT NULL, seq INTEGER NOT NULL, hash BLOB NOT NULL, json TEXT NOT NULL, detected_at INTEGER NOT NULL,
    PRIMARY KEY (author, seq, hash)
  ) WITHOUT ROWID;
  CREATE TABLE peers (node TEXT NOT NULL, author TEXT NOT NULL, seq INTEGER NOT NULL, seen_at INTEGER NOT NULL, PRIMARY KEY (node, author)) WITHOUT ROWID;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Applies the migrations the file lacks; returns the version it was at. */
export function migrate(db: Database.Database): number {
  const from = db.pragma('user_version', { simple: true }) as number;
  for (let v = from; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return from;
}
