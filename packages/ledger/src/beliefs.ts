/**
 * What this node believes without a signature behind it: the heads peers announced (for sync
 * lag only, DESIGN §3 Evidence), and clearing those, the held entries and the quarantine.
 */
import type { Heads } from '@keymesh/protocol';
import { PEER_CLAIMS_UNKNOWN, PEER_NODES } from './types.js';
import { writable, write, type LedgerCore } from './core.js';

/**
 * Records the heads a peer announced, for sync lag only: unsigned, so they never block an
 * append or change state. The latest claim replaces the previous one (a later truthful `have`
 * undoes a lie). Bounded: PEER_CLAIMS_UNKNOWN claims per peer for authors this ledger holds no
 * feed of, and the PEER_NODES peers heard from last.
 */
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

/**
 * Clears the peers' claims (`peers`), entries held for later (`pending`: all, or one author's)
 * and the quarantine. Nothing signed that the feeds hold is touched; peers send held entries
 * again when they apply.
 */
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
