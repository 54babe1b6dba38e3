/**
 * The write path: appends of this node's own entries (refused when its feed is proven ahead
 * elsewhere or forked), storing one verified entry, the peers' claims, and clearing beliefs.
 */
import { BODY_SCHEMAS, describeZodError, isEventType, isKnownEntry, policyKeyOf, signEntry, toHex, type AnyEntry, type EntryType, type Heads, type KeyPair } from '@keymesh/protocol';
import { LedgerError } from './errors.js';
import { PEER_CLAIMS_UNKNOWN, PEER_NODES } from './types.js';
import { feedFor, h8, INDEX_BATCH, setHead, writable, write, type LedgerCore, type Parsed } from './core.js';
import { isCoordinator, materialise } from './materialise.js';
import { indexEvents, recordEvent } from './access-log.js';
import { releaseHeld } from './held-drain.js';

export function appendMany(l: LedgerCore, key: KeyPair, items: ReadonlyArray<{ type: EntryType; body: unknown }>): Array<{ entry: AnyEntry; hash: string; hashBytes: Uint8Array }> {
  writable(l);
  if (items.length === 0) return [];
  const author = key.publicKey;
  assertOwnFeedWritable(l, author);
  return write(l, () => {
    const head = l.feeds.get(author);
    let seq = head?.seq ?? 0;
    let prev = head && head.seq > 0 ? head.hash : null;
    const out: Array<{ entry: AnyEntry; hash: string; hashBytes: Uint8Array }> = [];
    const touched = new Set<string>();
    for (const item of items) {
      // The envelope is built here and is valid by construction; the body is the caller's.
      const schema = BODY_SCHEMAS[item.type];
      const checked = schema?.safeParse(item.body);
      if (!checked?.success) {
        throw new LedgerError('BAD_ENTRY', `${item.type}: ${checked ? describeZodError({ issues: checked.error.issues.map((i) => ({ ...i, path: ['body', ...i.path] })) }) : 'unknown entry type'}. Nothing was written.`);
      }
      const probe = { type: item.type, body: item.body } as AnyEntry;
      const pkey = policyKeyOf(probe);
      const { entry, hash, hashBytes, wire } = signEntry(key, {
        site: l.site, seq: seq + 1, prev, hlc: l.clock.now(), type: item.type,
        deps: pkey ? l.state.headHashes(pkey) : [], body: item.body as never,
      }, l.crypto);
      storeEntry(l, { entry: entry as AnyEntry, json: wire, hash: hashBytes }, touched, hash);
      seq += 1;
      prev = hash;
      out.push({ entry: entry as AnyEntry, hash, hashBytes });
    }
    setHead(l, author, seq, out[out.length - 1]!.hashBytes);
    // An append that grants authority (an enrolment, a member's key) releases what that key's entries waited for.
    materialise(l, touched, releaseHeld(l, touched));
    if (l.unindexed.length >= INDEX_BATCH) indexEvents(l);
    return out;
  });
}

/**
 * Refuses to extend a feed that is proven ahead elsewhere or forked (DESIGN §4). Proof means
 * a signed entry (DESIGN §3, Evidence): a fork, or a verified entry of this key held in
 * pending; a peer's unsigned `have` never blocks an append. Only ingest (and clear) change
 * the answer, so a passed check is remembered until one of them runs: appends skip queries.
 */
export function assertOwnFeedWritable(l: LedgerCore, author: string): void {
  if (l.writableFeeds.has(author)) return;
  const fork = l.stmt.forksOf.get(author) as { seq: number } | undefined;
  if (fork) {
    throw new LedgerError('SELF_FORK', `two different entries exist for seq ${fork.seq} of ${author.slice(0, 12)}…. This key must stop writing: give the node a new key and have an admin link it to the old feed (node.retire + node.enrol).`, { author, seq: fork.seq });
  }
  const behind = ownFeedBehind(l, author);
  if (behind) {
    throw new LedgerError('SELF_FEED_BEHIND', `a signed entry of ${author.slice(0, 12)}… at seq ${behind.remote} exists (received, signature verified), but this database holds its feed only up to seq ${behind.local}; appending now would fork the feed. If this node was restored from a backup or re-imaged, give it a new key and have an admin enrol it naming the old one; otherwise wait until the missing entries arrive.`, { author, ...behind });
  }
  l.writableFeeds.add(author);
}

/**
 * Stores one verified entry in its feed and applies it. `hashHex` is given by append: the
 * entry is this node's own, stamped by its clock. A received entry's stamp is absorbed once
 * the transaction commits, unless it is too far ahead (node-time.ts); an entry this release
 * does not understand is stored inert and listed as held for a newer version (held.ts).
 */
export function storeEntry(l: LedgerCore, p: Parsed, touched: Set<string>, hashHex?: string): void {
  const e = p.entry;
  const known = p.known ?? isKnownEntry(e);
  const pkey = known ? policyKeyOf(e) : null;
  const feed = feedFor(l, e.author);
  const stamp = hashHex === undefined ? l.time.received(e.hlc, isCoordinator(l, e.author, e.seq)) : e.hlc;
  l.stmt.insertEntry.run(feed.id, e.seq, feed.id, e.seq, p.hash, h8(p.hash), e.type, pkey, stamp.wall, stamp.logical, p.json);
  if (!known) l.held.hold(feed.id, e.seq);
  else if (pkey) {
    l.state.add(e, hashHex ?? toHex(p.hash));
    touched.add(pkey);
  }
  else if (isEventType(e.type)) recordEvent(l, feed.id, e);
}

export function ownFeedBehind(l: LedgerCore, author: string): { local: number; remote: number } | null {
  const local = l.feeds.get(author)?.seq ?? 0;
  const remote = l.pending.maxSeq(author);
  return remote > local ? { local, remote } : null;
}

export function noteRemoteHeads(l: LedgerCore, node: string, heads: Heads): void {
  writable(l);
  const at = l.time.now();
  write(l, () => {
    const known = !!l.stmt.peerKnown.get(node);
    l.stmt.forgetPeer.run(node);
    let unknown = 0;
    for (const [author, seq] of Object.entries(heads)) {
      if (!l.feeds.has(author) && ++unknown > PEER_CLAIMS_UNKNOWN) continue;
      l.stmt.peerHead.run(node, author, seq, at);
    }
    if (!known) {
      l.db.prepare(`DELETE FROM peers WHERE node IN (
        SELECT node FROM peers GROUP BY node ORDER BY max(seen_at) DESC, node LIMIT -1 OFFSET ${PEER_NODES})`).run();
    }
  });
}

export function clear(l: LedgerCore, what: { peers?: boolean; pending?: string | true; quarantine?: boolean }): { peers: number; pending: number; quarantine: number } {
  writable(l);
  const out = { peers: 0, pending: 0, quarantine: 0 };
  try {
    write(l, () => {
      if (what.peers) out.peers = l.db.prepare('DELETE FROM peers').run().changes;
      if (what.pending) out.pending = l.pending.clear(what.pending === true ? undefined : what.pending);
      if (what.quarantine) out.quarantine = l.quarantine.clear();
    });
  } finally {
    l.pending.forget();
    l.writableFeeds.clear();
  }
  return out;
}
