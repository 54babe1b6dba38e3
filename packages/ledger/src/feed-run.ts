/**
 * One feed's part of an ingest: the contiguous run from its head walked, forks found, the run's
 * signatures checked, and what its author has authority for stored; the rest is held.
 */
import { policyKeyOf, toHex, type AnyEntry } from '@keymesh/protocol';
import { entryIdSql } from './migrations.js';
import type { PendingEntry } from './pending.js';
import type { VerifyMode } from './types.js';
import { setHead, type IngestContext, type LedgerCore, type Parsed } from './core.js';
import { storeEntry } from './store.js';
import { park } from './park.js';
import { checkRun, rejectBadSignature, signatureOk } from './signatures.js';

/** Stores the contiguous run of one feed from its head; forks found are noted; the rest is held. */
export function ingestFeed(l: LedgerCore, author: string, list: readonly Parsed[], ctx: IngestContext, verify: VerifyMode): void {
  const { result, reject } = ctx;
  const head = l.feeds.get(author);
  let seq = head?.seq ?? 0;
  let prev = head && head.seq > 0 ? head.hash : null;
  const ahead = new Map<number, PendingEntry[]>();
  l.pending.authorise(author);
  // Held entries first: they were verified when parked.
  const held = l.pending.rows(author);
  let stale = false;
  for (const p of [...held, ...list] as PendingEntry[]) {
    if (p.entry.seq <= seq) {
      const have = l.stmt.entryAt.get(head!.id, p.entry.seq) as { hash: Buffer; json: string };
      if (Buffer.compare(have.hash, p.hash) !== 0) ctx.forkRows.push({ p, original: have.hash });
      else if (!p.stored) {
        result.duplicates++;
        if (have.json !== p.json) repairSignature(l, head!.id, p, have.json);
      }
      if (p.stored) stale = true;
      continue;
    }
    const at = ahead.get(p.entry.seq);
    if (!at) ahead.set(p.entry.seq, [p]);
    else if (!at.some((q) => Buffer.compare(q.hash, p.hash) === 0)) at.push(p);
    else result.duplicates++;
  }
  if (stale) l.pending.deleteUpTo(author, seq);
  const stored = seq;
  // Walk the contiguous run from the head.
  const run: Parsed[] = [];
  for (;;) {
    const cands = ahead.get(seq + 1);
    if (!cands) break;
    let linked = cands.filter((c) => c.entry.prev === prev);
    if (seq === stored && seq > 0 && linked.length === 0 && takeOtherBranch(l, author, seq, cands, ctx)) {
      prev = l.feeds.get(author)!.hash;
      linked = cands.filter((c) => c.entry.prev === prev);
    }
    if (seq === stored && linked.length < cands.length) {
      // Next to the stored head an entry that names another prev can never apply: refused
      // (once: a held one is dropped). Further on it may link to another candidate of the seq
      // before it, so it keeps waiting, verified like the rest.
      for (const c of cands) {
        if (c.entry.prev === prev) continue;
        if (c.stored) l.pending.drop(author, c.entry.seq, c.hash);
        else reject(c.json, author, c.entry.seq, 'CHAIN_MISMATCH', `seq ${c.entry.seq} names prev ${String(c.entry.prev).slice(0, 12)}…, but the entry held for seq ${seq} has hash ${String(prev).slice(0, 12)}…`);
      }
      ahead.set(seq + 1, linked);
    }
    if (linked.length > 1) {
      // Several entries for one seq on the same prev: only validly signed ones count, so
      // a forged copy can neither displace the genuine entry nor pass as fork proof.
      const signed = linked.filter((c) => signatureOk(l, c));
      for (const c of linked) if (!signed.includes(c)) rejectBadSignature(c, reject);
      // The feed goes on with the entry the next one names (else the lowest hash): every
      // replica that holds the same entries then holds the same feed; the other is the proof.
      const after = new Set((ahead.get(seq + 2) ?? []).map((c) => c.entry.prev));
      signed.sort((x, y) => Number(after.has(toHex(y.hash))) - Number(after.has(toHex(x.hash))) || Buffer.compare(x.hash, y.hash));
      for (const c of signed.slice(1)) ctx.forkRows.push({ p: c, original: signed[0]!.hash });
      linked = signed.slice(0, 1);
    }
    const next = linked[0];
    if (!next) break;
    ahead.delete(seq + 1);
    run.push(next);
    seq += 1;
    prev = toHex(next.hash);
  }
  const checked = checkRun(l, run, verify, reject);
  const good = storeTrusted(l, author, checked, ctx.touched);
  if (good.length) {
    const last = good[good.length - 1]!;
    setHead(l, author, last.entry.seq, last.hash);
    l.pending.deleteUpTo(author, last.entry.seq);
    result.accepted += good.length;
  }
  // Entries past the key's authority, and those past a bad signature in the run (verified one
  // by one), wait again with the rest.
  const rest = [...checked.slice(good.length), ...run.slice(checked.length).slice(1), ...[...ahead.values()].flat()];
  park(l, author, rest, heldFrom(l, author, rest), ctx);
}

/**
 * Stores the verified run while `author` holds authority at each seq, and returns what it
 * stored. Past its last such seq (a retired node's lastSeq, an admin's or member key's
 * until) entries count for nothing: they are held apart and bounded like those of a key
 * without authority, else a stolen retired key would grow every replica without end. The
 * site's genesis gives its author the authority the rest of its run needs; an admin's
 * `admins.change` may end its own (each seq after it is checked against the state it left,
 * so a replica that gets the run in one piece stores what one that got it in parts does).
 */
export function storeTrusted(l: LedgerCore, author: string, run: readonly Parsed[], touched: Set<string>): Parsed[] {
  if (run.length === 0) return [];
  const lastSeq = run[run.length - 1]!.entry.seq;
  let lastAdmins = -1;
  run.forEach((p, i) => policyKeyOf(p.entry) === 'admins' && (lastAdmins = i));
  // Authority is a prefix of seqs: held at the last seq, it is held at every one before.
  let all = lastAdmins < 0 && l.state.hasAuthorityAt(author, lastSeq);
  let n = 0;
  for (const p of run) {
    const genesis = p.entry.seq === 1 && p.entry.type === 'site.genesis' && toHex(p.hash) === l.site;
    if (!all && !genesis && !l.state.hasAuthorityAt(author, p.entry.seq)) break;
    storeEntry(l, p, touched);
    if (n++ === lastAdmins) all = l.state.hasAuthorityAt(author, lastSeq);
  }
  return run.slice(0, n);
}

/** The lowest of `cands`' seqs where `author` holds no authority (pending.ts `heldFrom`). */
export function heldFrom(l: LedgerCore, author: string, cands: readonly PendingEntry[]): number {
  if (cands.length === 0) return Infinity;
  const seqs = [...new Set(cands.map((c) => c.entry.seq))].sort((a, b) => a - b);
  if (l.state.hasAuthorityAt(author, seqs[seqs.length - 1]!)) return Infinity;
  return seqs.find((s) => !l.state.hasAuthorityAt(author, s))!;
}

/**
 * At a fork the feed goes on with the entry the next one names: when the entries after this
 * ledger's head `seq` name another entry it holds there as fork proof (recorded, or found in
 * this ingest), that entry becomes the feed's and the stored one the proof. Both are untrusted
 * from the fork on, so nothing changes but the feed, which then agrees with its peers' (heads
 * equal, sync goes quiet). Returns whether the feed's entry at `seq` was swapped.
 */
export function takeOtherBranch(l: LedgerCore, author: string, seq: number, next: readonly Parsed[], ctx: IngestContext): boolean {
  const named = new Set(next.map((c) => c.entry.prev));
  const f = l.feeds.get(author)!;
  let twin: Parsed | undefined;
  const pending = ctx.forkRows.findIndex(({ p }) => p.entry.author === author && p.entry.seq === seq && named.has(toHex(p.hash)) && signatureOk(l, p));
  if (pending >= 0) twin = ctx.forkRows.splice(pending, 1)[0]!.p;
  else {
    const row = (l.db.prepare('SELECT hash, json FROM forks WHERE author = ? AND seq = ?').all(author, seq) as Array<{ hash: Buffer; json: string }>)
      .find((r) => named.has(r.hash.toString('hex')));
    if (row) twin = { entry: JSON.parse(row.json) as AnyEntry, json: row.json, hash: new Uint8Array(row.hash) };
  }
  if (!twin) return false;
  const old = l.stmt.entryAt.get(f.id, seq) as { hash: Buffer; json: string };
  const oldEntry = JSON.parse(old.json) as AnyEntry;
  // Out with the stored entry's rows (its event, index rows, held mark), in with the twin's.
  const b = oldEntry.body as { resource?: string; member?: string | null; at?: number };
  const id = (t: string, cols: string) => l.db.prepare(`DELETE FROM ${t} WHERE ${cols} AND id = ${entryIdSql('?', '?')}`);
  if (typeof b.at === 'number' && typeof b.resource === 'string') {
    id('events', 'at = ?').run(b.at, f.id, seq);
    id('events_by_resource', 'resource = ? AND at = ?').run(b.resource, b.at, f.id, seq);
    if (typeof b.member === 'string') id('events_by_member', 'member = ? AND at = ?').run(b.member, b.at, f.id, seq);
    l.unindexed = l.unindexed.filter((ev) => !(ev.feed === f.id && ev.seq === seq));
  }
  l.held.release(f.id, seq);
  l.db.prepare(`DELETE FROM entries WHERE id = ${entryIdSql('?', '?')}`).run(f.id, seq);
  l.db.prepare('DELETE FROM forks WHERE author = ? AND seq = ? AND hash = ?').run(author, seq, twin.hash);
  storeEntry(l, twin, ctx.touched);
  setHead(l, author, seq, twin.hash);
  ctx.forkRows.push({ p: { entry: oldEntry, json: old.json, hash: new Uint8Array(old.hash) }, original: twin.hash });
  ctx.everything = true;
  return true;
}

/**
 * The same entry (same hash) with other bytes: only its `sig` can differ. A run verified in
 * 'batch' mode checks the newest signature only, so a relay may have got an inner entry stored
 * with a damaged one; the genuine copy replaces it, so what this ledger serves verifies.
 */
export function repairSignature(l: LedgerCore, feed: number, p: Parsed, storedJson: string): void {
  const stored = { entry: JSON.parse(storedJson) as AnyEntry, json: storedJson, hash: p.hash };
  if (signatureOk(l, p) && !signatureOk(l, stored)) l.stmt.repairJson.run(p.json, feed, p.entry.seq);
}

