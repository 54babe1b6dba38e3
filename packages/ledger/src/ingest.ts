/**
 * Ingest of received entries (DESIGN §4): each line checked once, feeds that may be stored
 * (feed-run.ts) before those of keys without authority (held apart: held-drain.ts), all in one
 * transaction.
 */
import { canonicalString, isRestrictive, toHex, type AnyEntry } from '@keymesh/protocol';
import { HELD_AUTHORS } from './pending.js';
import { checkLine, type CheckedLine } from './check-line.js';
import type { QuarantineRow } from './quarantine.js';
import type { IngestOptions, IngestResult, Rejected } from './types.js';
import { ingestContext, safeJson, writable, write, type LedgerCore, type Parsed, type Reject } from './core.js';
import { isCoordinator } from './materialise.js';
import { indexEvents } from './access-log.js';
import { ingestFeed } from './feed-run.js';
import { drainHeld, finishIngest, recordFindings } from './held-drain.js';
import { holdFeed } from './park.js';

export function ingestWith<T>(l: LedgerCore, items: readonly T[], parse: (item: T, reject: Reject) => Parsed | null, opts: IngestOptions): IngestResult {
  writable(l);
  l.writableFeeds.clear();
  const ctx = ingestContext(l);
  const byAuthor = new Map<string, Parsed[]>();
  // A line delivered again in one batch is checked once (a flood of one line costs one parse).
  const seen = new Map<string, { p: Parsed | null; rejected: Rejected[]; raw: QuarantineRow[] }>();
  const strangers = new Set<string>();
  for (const item of items) {
    let p: Parsed | null;
    const again = typeof item === 'string' ? seen.get(item) : undefined;
    if (again) {
      ctx.result.rejected.push(...again.rejected);
      ctx.quarantine.push(...again.raw);
      p = again.p;
      if (p) byAuthor.get(p.entry.author)!.push(p);
      continue;
    }
    if (typeof item === 'string' && cannotHold(l, item, strangers)) {
      ctx.result.dropped++;
      continue;
    }
    const [r0, q0] = [ctx.result.rejected.length, ctx.quarantine.length];
    try {
      p = parse(item, ctx.reject);
      if (typeof item === 'string') seen.set(item, { p, rejected: ctx.result.rejected.slice(r0), raw: ctx.quarantine.slice(q0) });
    } catch (err) {
      // Finding 3: no single entry may make the whole ingest throw.
      const raw = typeof item === 'string' ? item.slice(0, 65536) : safeJson(item);
      ctx.reject(raw, null, null, 'SCHEMA', `could not be read: ${(err as Error).message}`);
      continue;
    }
    if (!p) continue;
    let list = byAuthor.get(p.entry.author);
    if (!list) byAuthor.set(p.entry.author, (list = []));
    list.push(p);
  }
  const verify = opts.verify ?? 'each';
  write(l, () => {
    // Feeds that may be stored go first, again while storing them gives others authority
    // (an admin's node.enrol and that node's events in one batch); the rest are held.
    let rest = [...byAuthor.keys()];
    for (;;) {
      const ready = rest.filter((a) => mayStore(l, a, byAuthor.get(a)!));
      if (ready.length === 0) break;
      const done = new Set(ready);
      rest = rest.filter((a) => !done.has(a));
      for (const a of ready) ingestFeed(l, a, byAuthor.get(a)!, ctx, verify);
    }
    for (const a of rest) holdFeed(l, a, byAuthor.get(a)!, ctx);
    // A fork changes whose entries count, so who holds authority: record, drain, until still.
    do recordFindings(l, ctx);
    while (drainHeld(l, ctx, verify) && ctx.forkRows.length > 0);
    finishIngest(l, ctx);
    indexEvents(l);
  });
  return ctx.result;
}

/**
 * True for a line that could only be held and finds no room: its key has no feed, no
 * authority and nothing held, and the keys without authority (held, or `strangers` earlier in
 * this batch) fill their bound. Such a line is dropped unparsed, so a flood of throwaway keys
 * costs a regex per line, not a check.
 * (The author is the first "author" key: canonical bytes sort it first; a line that is not
 * canonical would be refused anyway. A genesis is never dropped.)
 */
export function cannotHold(l: LedgerCore, line: string, strangers: Set<string>): boolean {
  const author = /^\{"author":"([0-9a-f]{64})"/.exec(line)?.[1];
  if (author === undefined || strangers.has(author) || l.feeds.has(author) || l.pending.isHeld(author) || line.includes('"type":"site.genesis"')) return false;
  if (authorityOf(l, author)) return false;
  if (l.pending.stats().unauthorisedAuthors + strangers.size < HELD_AUTHORS) {
    strangers.add(author);
    return false;
  }
  return true;
}

/**
 * May `author`'s entries be stored as a feed? Only a key that holds some authority (or
 * already has a feed here, or signs the genesis) gets one: a flood of throwaway keys must not
 * become feeds (issue 10, finding 13). Other keys' entries wait, verified, in pending.
 */
export function mayStore(l: LedgerCore, author: string, list: readonly Parsed[]): boolean {
  // Authority is a prefix of a key's seqs (an until, a lastSeq): held at seq 1 or nowhere.
  if (l.feeds.has(author) || l.state.hasAuthorityAt(author, 1)) return true;
  return list.some((p) => p.entry.type === 'site.genesis' && p.entry.seq === 1 && toHex(p.hash) === l.site);
}

/** Named anywhere as an admin, a member's key or an enrolled node (PolicyState.hasAuthority). */
export function authorityOf(l: LedgerCore, author: string): boolean {
  return l.state.hasAuthority(author);
}

/** Ingest of lines whose checkLine results were computed elsewhere: see Ledger.ingestChecked. */
export function ingestChecked(l: LedgerCore, lines: readonly string[], checks: ReadonlyArray<CheckedLine>, opts: IngestOptions): IngestResult {
  return ingestWith(l, lines.map((_, i) => i), (i, reject) => {
    const c = checks[i]!;
    if (c instanceof Uint8Array || 'hash' in c) {
      // The worker ran checkLine (envelope, canonical bytes); parsing again here is plain JSON.
      const entry = JSON.parse(lines[i]!) as AnyEntry;
      return admit(l, { entry, json: lines[i]!, hash: c instanceof Uint8Array ? c : c.hash, known: c instanceof Uint8Array }, reject);
    }
    reject(lines[i]!.slice(0, 65536), c.author, c.seq, c.code, c.reason);
    return null;
  }, opts);
}

/**
 * An item as an entry, or its rejection. A string goes through checkLine, the one check of
 * received bytes; an object is encoded canonically first and then checked as those bytes, so
 * both refuse the same entries for the same reasons.
 */
export function parse(l: LedgerCore, item: AnyEntry | string, reject: Reject): Parsed | null {
  let text: string;
  if (typeof item === 'string') text = item;
  else {
    try {
      text = canonicalString(item);
    } catch (err) {
      const { author, seq } = (item ?? {}) as { author?: unknown; seq?: unknown };
      reject(safeJson(item), typeof author === 'string' ? author : null, typeof seq === 'number' ? seq : null, 'NON_CANONICAL', (err as Error).message);
      return null;
    }
  }
  const c = checkLine(text, l.crypto);
  if (!c.ok) {
    reject(text.slice(0, 65536), c.author, c.seq, c.code, c.reason);
    return null;
  }
  return admit(l, { entry: c.entry, json: text, hash: c.hash, known: c.known }, reject);
}

/** The checks that need this ledger: site and clock. */
export function admit(l: LedgerCore, p: Parsed, reject: Reject): Parsed | null {
  const { entry, json, hash } = p;
  const siteOk = entry.type === 'site.genesis' ? toHex(hash) === l.site : entry.site === l.site;
  if (!siteOk) {
    reject(json, entry.author, entry.seq, 'WRONG_SITE', `entry is for site ${(entry.site || toHex(hash)).slice(0, 16)}…, this ledger is ${l.site.slice(0, 16)}…`);
    return null;
  }
  // Far ahead of `now` (node-time.ts) is refused, but for a restrictive entry (a node obeys a
  // suspension whatever its stamp) and a coordinator's within a year, whose stamps say what
  // time it is (DESIGN §10). Neither moves the clock further than `now` allows.
  if (l.time.isTooFarAhead(entry.hlc) && !(p.known !== false && isRestrictive(entry)) && !(isCoordinator(l, entry.author, entry.seq) && l.time.believable(entry.hlc))) {
    reject(json, entry.author, entry.seq, 'CLOCK_AHEAD', `stamped ${new Date(entry.hlc.wall).toISOString()}, more than ${l.clock.maxDriftMs / 1000} s ahead of this node's time (${new Date(l.time.now()).toISOString()}); check the author's clock (NTP)`);
    return null;
  }
  return p;
}
