/**
 * Entries that arrive for relay (DESIGN §3, one key per signing device): whoever accepts an
 * author's entry for others (the coordinator's API) takes it only if it extends the head held
 * here, compare-and-set. Anything else is refused with a reason, and a refused entry leaves no
 * trace: nothing stored, held or quarantined (a relay answers its client; it is not a peer
 * whose entries may arrive in any order).
 */
import { toHex, type AnyEntry } from '@keymesh/protocol';
import { SUBMIT_REFUSALS, type SubmitRefusalCode } from './errors.js';
import { flush, writable, type LedgerCore } from './core.js';
import { ingestWith, parse } from './ingest.js';
import { signatureOk } from './signatures.js';
import { trustedHead } from './queries.js';

/** The newest contiguous entry of a feed that this ledger announces (its signed head). */
export interface FeedHead {
  seq: number;
  /** Hex SHA-256 of the entry (what the next entry names as `prev`). */
  hash: string;
  /** The entry's canonical text, as signed and stored. */
  line: string;
  entry: AnyEntry;
}

export type SubmitResult =
  | { ok: true; entry: AnyEntry; hash: string; line: string }
  /** The entry does not extend `head` (undefined: this ledger holds no entry of the author). */
  | { ok: false; code: 'NOT_HEAD'; reason: string; head: FeedHead | undefined }
  | { ok: false; code: Exclude<SubmitRefusalCode, 'NOT_HEAD'>; reason: string };

/**
 * The head entry of `author`'s feed: the seq `heads()` announces (the highest contiguous one
 * up to the key's authority), or undefined for a feed this ledger does not hold.
 */
export function headOf(l: LedgerCore, author: string): FeedHead | undefined {
  const f = l.feeds.get(author);
  if (!f || f.seq === 0) return undefined;
  const seq = trustedHead(l, author, f.seq);
  if (seq === 0) return undefined;
  flush(l); // a head leaves the ledger: it must survive a power cut first
  const row = l.stmt.entryAt.get(f.id, seq) as { hash: Buffer; json: string };
  return { seq, hash: row.hash.toString('hex'), line: row.json, entry: JSON.parse(row.json) as AnyEntry };
}

/**
 * Stores `item` if it is valid and the next entry of its author's feed here (seq = head + 1,
 * prev = head's hash; seq 1 on an empty feed). Checks, in order: bytes and schema, site, clock,
 * signature, authority at its seq, the feed not forked, then the head. An accepted entry is
 * durable (fsynced) when this returns, so the caller may relay it at once.
 */
export function submit(l: LedgerCore, item: AnyEntry | string): SubmitResult {
  writable(l);
  let refused: SubmitResult | undefined;
  const p = parse(l, item, (_raw, _author, _seq, code, reason) => {
    refused ??= { ok: false, code, reason };
  });
  if (!p) return refused!;
  const e = p.entry;
  const hash = toHex(p.hash);
  const refuse = (code: Exclude<SubmitRefusalCode, 'NOT_HEAD'>, detail: string): SubmitResult => ({ ok: false, code, reason: `${SUBMIT_REFUSALS[code]}: ${detail}` });
  const who = `${e.author.slice(0, 12)}…`;
  if (!signatureOk(l, p)) return refuse('BAD_SIGNATURE', `seq ${e.seq} by ${who}`);
  const genesis = e.seq === 1 && e.type === 'site.genesis' && hash === l.site;
  if (!genesis && !l.state.hasAuthorityAt(e.author, e.seq)) {
    return refuse('NO_AUTHORITY', `${who} holds no authority for its entry ${e.seq} here (not an admin, an enrolled node or a member's key, or past its end)`);
  }
  const fork = l.stmt.forksOf.get(e.author) as { seq: number } | undefined;
  if (fork) return refuse('FEED_FORKED', `${who} signed two entries for seq ${fork.seq}; it must stop writing until an admin replaces the key`);
  const f = l.feeds.get(e.author);
  const headSeq = f?.seq ?? 0;
  if (e.seq !== headSeq + 1 || e.prev !== (headSeq > 0 ? f!.hash : null)) {
    const head = headOf(l, e.author);
    const at = head ? `seq ${head.seq} (${head.hash.slice(0, 12)}…)` : 'empty';
    return { ok: false, code: 'NOT_HEAD', reason: `${SUBMIT_REFUSALS.NOT_HEAD}: entry ${e.seq} names prev ${String(e.prev).slice(0, 12)}…, the feed here is at ${at}; sign the next entry after it`, head };
  }
  // Every check that could refuse it has passed, so the ingest path stores it (and whatever
  // was held waiting for it) without quarantining anything.
  const result = ingestWith(l, [p], (x) => x, { verify: 'batch' });
  if (result.accepted === 0) throw new Error(`submit: entry ${e.seq} of ${who} passed every check but was not stored`);
  flush(l);
  return { ok: true, entry: e, hash, line: p.json };
}
