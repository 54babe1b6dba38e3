/**
 * SQLite schema and migrations. `PRAGMA user_version` is the schema version; each migration runs
 * once, in a transaction, so a Pi's database upgrades in place when a new release opens it.
 *
 * Layout, measured (see bench/RESULTS.md, ledger; versions 2 to 4 below): entries live in a
 * rowid table whose rowid is made of (feed, seq) (SEQ_BITS), where `feed` is an integer id for
 * the author's key, so each feed's appends go to the end of its own range and no index is needed
 * to find one; a 64-character author in every row and index made inserts ~2x slower than this,
 * and a WITHOUT ROWID table suits only small rows (ours are ~0.7 KB). Policy entries are
 * findable by hash through `h8`, the first 8 bytes of the hash as an integer, in a partial
 * index: a unique index on the random 32-byte hash made inserts ~8x slower, and access events,
 * the bulk of the ledger, are looked up by (author, seq), never by hash, so they skip it.
 */
import type Database from 'better-sqlite3';

/**
 * Since schema 3 an entry's rowid is `(feed << SEQ_BITS) | seq`: protocol seqs go up to 2^40, and
 * 2^(63 − SEQ_BITS) feed ids fit a signed 64-bit rowid. Ids are made and compared in SQL only
 * (they pass 2^53 from feed 4,096 on, where JavaScript numbers lose digits).
 */
export const SEQ_BITS = 41;
export const MAX_FEED_ID = 2 ** (63 - SEQ_BITS) - 1;
/** SQL for the id of the entry at (feed, seq), given two SQL expressions. */
export const entryIdSql = (feed: string, seq: string): string => `((${feed} << ${SEQ_BITS}) | ${seq})`;
/** SQL that holds for the ids of feed `feed`'s entries (a rowid range, so a seek). */
export const inFeedSql = (feed: string, id = 'id'): string => `${id} BETWEEN (${feed} << ${SEQ_BITS}) AND ((${feed} << ${SEQ_BITS}) | ${2 ** SEQ_BITS - 1})`;

export const MIGRATIONS: readonly string[] = [
  // 1: first release
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE feeds (
    id INTEGER PRIMARY KEY,
    author TEXT NOT NULL UNIQUE,
    seq INTEGER NOT NULL,      -- head: highest contiguous seq held
    hash BLOB NOT NULL         -- hash of the head entry
  );
  CREATE TABLE entries (
    id INTEGER PRIMARY KEY,
    feed INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL,
    h8 INTEGER NOT NULL,
    type TEXT NOT NULL,
    pkey TEXT,                 -- policy key, NULL for access events
    hlc_wall INTEGER NOT NULL,
    hlc_logical INTEGER NOT NULL,
    json TEXT NOT NULL         -- the canonical encoding, signature included
  );
  CREATE UNIQUE INDEX entries_feed_seq ON entries (feed, seq);
  CREATE INDEX entries_h8 ON entries (h8) WHERE pkey IS NOT NULL;
  CREATE TABLE pending (
    author TEXT NOT NULL, seq INTEGER NOT NULL, hash BLOB NOT NULL, json TEXT NOT NULL, received_at INTEGER NOT NULL,
    PRIMARY KEY (author, seq, hash)
  ) WITHOUT ROWID;
  CREATE TABLE policy (pkey TEXT PRIMARY KEY, value TEXT NOT NULL, heads TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE events (
    id INTEGER PRIMARY KEY,    -- = entries.id
    resource TEXT NOT NULL, member TEXT, at INTEGER NOT NULL, allow INTEGER  -- the rest is in entries.json
  );
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
  // 2: two fewer B-trees written per access event (~12% faster single appends, bench/RESULTS.md).
  // Access events are clustered by (at, id), which the access log pages by, so the events_at
  // index goes; a feed's head is read from its entries (max seq, through entries_feed_seq)
  // instead of being rewritten in `feeds` on every append.
  `
  CREATE TABLE events_v2 (
    at INTEGER NOT NULL, id INTEGER NOT NULL,   -- id = entries.id
    resource TEXT NOT NULL, member TEXT, allow INTEGER,
    PRIMARY KEY (at, id)
  ) WITHOUT ROWID;
  INSERT INTO events_v2 (at, id, resource, member, allow) SELECT at, id, resource, member, allow FROM events;
  DROP TABLE events;
  ALTER TABLE events_v2 RENAME TO events;
  CREATE INDEX events_member ON events (member, at);
  CREATE INDEX events_resource ON events (resource, at);
  ALTER TABLE feeds DROP COLUMN seq;
  ALTER TABLE feeds DROP COLUMN hash;
  `,
  // 3: one B-tree fewer for every entry. An entry's id is (feed << SEQ_BITS) | seq, so the rowid
  // itself finds an entry by (feed, seq) and keeps each feed in order, and the entries_feed_seq
  // index goes: 4 WAL pages per single access event instead of 5 (~4 % less CPU per append here,
  // bench/RESULTS.md, ledger), and one B-tree less to write on every ingest. Events
  // take their entry's new id. (Literal 41 here: a migration's text never changes.)
  `
  CREATE TABLE entries_v3 (
    id INTEGER PRIMARY KEY,    -- (feed << 41) | seq: see SEQ_BITS
    feed INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL,
    h8 INTEGER NOT NULL,
    type TEXT NOT NULL,
    pkey TEXT,
    hlc_wall INTEGER NOT NULL,
    hlc_logical INTEGER NOT NULL,
    json TEXT NOT NULL
  );
  INSERT INTO entries_v3 SELECT (feed << 41) | seq, feed, seq, hash, h8, type, pkey, hlc_wall, hlc_logical, json FROM entries ORDER BY feed, seq;
  CREATE TABLE events_v3 (
    at INTEGER NOT NULL, id INTEGER NOT NULL,
    resource TEXT NOT NULL, member TEXT, allow INTEGER,
    PRIMARY KEY (at, id)
  ) WITHOUT ROWID;
  INSERT INTO events_v3 SELECT ev.at, (e.feed << 41) | e.seq, ev.resource, ev.member, ev.allow FROM events ev JOIN entries e ON e.id = ev.id;
  DROP TABLE events;
  DROP TABLE entries;
  ALTER TABLE entries_v3 RENAME TO entries;
  ALTER TABLE events_v3 RENAME TO events;
  CREATE INDEX entries_h8 ON entries (h8) WHERE pkey IS NOT NULL;
  CREATE INDEX events_member ON events (member, at);
  CREATE INDEX events_resource ON events (resource, at);
  `,
  // 4: the access log's by-member and by-resource indexes are written in batches, not with each
  // event: a single append writes 2 WAL pages instead of 4 (+5 % pinned to one vCPU, 12
  // alternating pairs, bench/RESULTS.md). They become tables the ledger fills itself
  // (access-log.ts, indexEvents), and events_indexed says, per feed, up to which seq they are
  // complete; the events after it are found again from the entries on open.
  `
  CREATE TABLE events_by_member (member TEXT NOT NULL, at INTEGER NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (member, at, id)) WITHOUT ROWID;
  CREATE TABLE events_by_resource (resource TEXT NOT NULL, at INTEGER NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (resource, at, id)) WITHOUT ROWID;
  INSERT INTO events_by_member SELECT member, at, id FROM events WHERE member IS NOT NULL;
  INSERT INTO events_by_resource SELECT resource, at, id FROM events;
  DROP INDEX events_member;
  DROP INDEX events_resource;
  CREATE TABLE events_indexed (feed INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
  INSERT INTO events_indexed SELECT feed, max(seq) FROM entries GROUP BY feed;
  `,
  // 5: only signed evidence changes what a node believes (DESIGN §3, Evidence; issue 10).
  // Earlier releases parked pending entries unverified and kept the highest head any peer
  // claimed: both go (peers send them again; claims now only feed sync lag). Pending entries
  // of keys without authority are marked (`unauthorised`), so they are bounded apart and found
  // again when authority arrives. The quarantine keeps one row per distinct raw line (`digest`
  // = sha256 of it, with a count and when it was last seen) and is bounded per author and in
  // total; rows of earlier releases keep a NULL digest and are trimmed to the newest 10,000.
  `
  DELETE FROM pending;
  ALTER TABLE pending ADD COLUMN unauthorised INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX pending_unauthorised ON pending (author) WHERE unauthorised = 1;
  DELETE FROM peers;
  ALTER TABLE quarantine ADD COLUMN digest BLOB;
  ALTER TABLE quarantine ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE quarantine ADD COLUMN last_seen INTEGER NOT NULL DEFAULT 0;
  UPDATE quarantine SET last_seen = received_at;
  DELETE FROM quarantine WHERE id NOT IN (SELECT id FROM quarantine ORDER BY id DESC LIMIT 10000);
  CREATE UNIQUE INDEX quarantine_digest ON quarantine (digest);
  CREATE INDEX quarantine_author ON quarantine (author, last_seen);
  CREATE INDEX quarantine_last_seen ON quarantine (last_seen);
  `,
  // 6: entries held for a newer version (DESIGN §4; issue 10, finding 9): verified, stored in
  // their feed (pkey NULL, no event row), changing nothing. `held` lists them by entry id; a
  // release that understands one re-reads it on open and removes it from here (held.ts).
  `
  CREATE TABLE held (id INTEGER PRIMARY KEY);
  `,
  // 7: what an open checks without reading the whole file (issue 10, deliver 4). A feed's
  // entries 1..seq were found contiguous when its mark was last written (on open, and in the
  // transactions that store entries, with the event index batches); an open counts only the
  // entries past the mark. Empty here, so the first open of an upgraded file counts every feed once.
  `
  CREATE TABLE feeds_checked (feed INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
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
