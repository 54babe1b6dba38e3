/** A `Ledger` as the store of a `PubSubSync`: the few things a node on a bus needs beyond `SyncStore`. */
import type { Ledger } from '../ledger.js';
import type { IngestPool } from '../ingest-pool.js';
import type { CheckedLine } from '../check-line.js';
import type { IngestOptions } from '../types.js';
import type { PubSubStore } from './store.js';

/** `pool`: lines received are checked in its worker before they are stored (a coordinator). */
export function ledgerSyncStore(ledger: Ledger, o: { pool?: IngestPool } = {}): PubSubStore {
  const pool = o.pool;
  return {
    ...(pool ? {
      check: (lines: string[]) => pool.checkLines(lines),
      ingestChecked: (lines: readonly string[], checks: ReadonlyArray<CheckedLine>, opts?: IngestOptions) => ledger.ingestChecked(lines, checks, opts),
    } : {}),
    heads: () => ledger.localHeads(),
    seqOf: (author) => ledger.seqOf(author),
    readEncoded: (author, from, limit) => ledger.readEncoded(author, from, limit),
    ingest: (items, opts) => ledger.ingest(items, opts),
    forkClaims: (limit) => ledger.forkClaims(limit),
    forks: () => ledger.forks(),
    forkProofs: (author, at) => ledger.forkProofs(author, at),
    noteRemoteHeads: (node, heads) => ledger.noteRemoteHeads(node, heads),
    headOf: (author) => ledger.headOf(author)?.line,
    now: () => ledger.now(),
    hasAuthority: (key) => ledger.policy.hasAuthority(key),
    isTrustedCoordinator: (key) => {
      // Retired or replaced: it confirms nothing any more, whatever seq its feed is at here.
      const n = ledger.policy.node(key);
      return n?.role === 'coordinator' && !n.retired && !ledger.policy.isForkedOut(key, Math.max(1, ledger.localHeads()[key] ?? 0));
    },
    heldForNewerVersion: () => ledger.heldForNewerVersion(),
    flush: () => ledger.flush(),
    readNote: (name) => ledger.note(name),
    writeNote: (name, value) => void ledger.note(name, value),
    submit: (entry) => {
      const r = ledger.submit(entry);
      if (r.ok) return { ok: true, entry: r.entry, text: r.line };
      const head = 'head' in r && r.head ? { seq: r.head.seq, hash: r.head.hash, text: r.head.line } : undefined;
      return { ok: false, code: r.code, reason: r.reason, head };
    },
  };
}
