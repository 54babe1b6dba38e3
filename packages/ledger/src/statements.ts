/** The ledger's prepared statements, made once per open file. */
import type Database from 'better-sqlite3';
import { entryIdSql, SEQ_BITS } from './migrations.js';

export type Statements = Record<
  | 'insertEntry'
  | 'insertFeed'
  | 'entryAt'
  | 'insertEvent'
  | 'indexByMember'
  | 'indexByResource'
  | 'markChecked'
  | 'markIndexed'
  | 'upsertPolicy'
  | 'deletePolicy'
  | 'insertFork'
  | 'forksOf'
  | 'repairJson'
  | 'forkBound'
  | 'read'
  | 'peerHead'
  | 'peerKnown'
  | 'forgetPeer',
  Database.Statement
>;

export function prepareStatements(db: Database.Database): Statements {
  return {
    insertEntry: db.prepare(`INSERT INTO entries (id, feed, seq, hash, h8, type, pkey, hlc_wall, hlc_logical, json) VALUES (${entryIdSql('?', '?')}, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    insertFeed: db.prepare('INSERT INTO feeds (author) VALUES (?)'),
    entryAt: db.prepare(`SELECT hash, json FROM entries WHERE id = ${entryIdSql('?', '?')}`),
    insertEvent: db.prepare(`INSERT INTO events (id, resource, member, at, allow) VALUES (${entryIdSql('?', '?')}, ?, ?, ?, ?)`),
    indexByMember: db.prepare(`INSERT INTO events_by_member (member, at, id) VALUES (?, ?, ${entryIdSql('?', '?')})`),
    indexByResource: db.prepare(`INSERT INTO events_by_resource (resource, at, id) VALUES (?, ?, ${entryIdSql('?', '?')})`),
    markChecked: db.prepare('INSERT INTO feeds_checked (feed, seq) VALUES (?, ?) ON CONFLICT (feed) DO UPDATE SET seq = excluded.seq'),
    markIndexed: db.prepare('INSERT INTO events_indexed (feed, seq) VALUES (?, ?) ON CONFLICT (feed) DO UPDATE SET seq = max(seq, excluded.seq)'),
    upsertPolicy: db.prepare('INSERT INTO policy (pkey, value, heads) VALUES (?, ?, ?) ON CONFLICT (pkey) DO UPDATE SET value = excluded.value, heads = excluded.heads'),
    deletePolicy: db.prepare('DELETE FROM policy WHERE pkey = ?'),
    insertFork: db.prepare('INSERT OR IGNORE INTO forks (author, seq, hash, json, detected_at) VALUES (?, ?, ?, ?, ?)'),
    forksOf: db.prepare('SELECT seq FROM forks WHERE author = ? LIMIT 1'),
    repairJson: db.prepare(`UPDATE entries SET json = ? WHERE id = ${entryIdSql('?', '?')}`),
    forkBound: db.prepare('SELECT min(seq) AS low, (SELECT count(*) FROM forks WHERE author = @author AND seq = @seq) AS here FROM forks WHERE author = @author'),
    read: db.prepare(`SELECT json FROM entries WHERE id BETWEEN ${entryIdSql('?', '?')} AND ${entryIdSql('?', String(2 ** SEQ_BITS - 1))} ORDER BY id LIMIT ?`),
    // A peer's latest claim replaces its previous one (claims are unsigned: sync lag only).
    peerHead: db.prepare('INSERT OR REPLACE INTO peers (node, author, seq, seen_at) VALUES (?, ?, ?, ?)'),
    peerKnown: db.prepare('SELECT 1 FROM peers WHERE node = ? LIMIT 1'),
    forgetPeer: db.prepare('DELETE FROM peers WHERE node = ?'),
  };
}
