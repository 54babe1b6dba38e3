/** Storing one verified entry in its feed: the row, the state or the access log, or held inert. */
import { isEventType, isKnownEntry, policyKeyOf, toHex } from '@keymesh/protocol';
import { feedFor, h8, type LedgerCore, type Parsed } from './core.js';
import { isCoordinator } from './materialise.js';
import { recordEvent } from './access-log.js';

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
