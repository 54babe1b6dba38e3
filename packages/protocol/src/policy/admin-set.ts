/**
 * Which admin-set changes count (DESIGN §3: changing the admin set needs the quorum of the set
 * it replaces), judged so that no choice of `deps` lets a change escape a later removal or a
 * raised quorum.
 *
 * 1. A change is *well-founded* when every entry its `deps` name is a well-founded change (or
 *    the genesis) and it is approved under the set those deps give: its author within its
 *    `until` at the change's seq, and approvals from active admins reaching that set's quorum.
 * 2. A well-founded change X is *defeated* by a well-founded change Y concurrent with it
 *    (neither names the other, directly or not) when X would not be approved under Y's set and
 *    X does not outrank Y. Rank is (admins of its own parent it keeps active, its quorum capped
 *    at that number): a change that strips the others, or that a removed admin signs past its
 *    `until`, or that quietly lowers a raised quorum, loses to the change it ignores; two
 *    changes that each refuse the other with equal rank both lose, and the set stays as it was
 *    (the safe outcome) until an admin writes a change that names both.
 * 3. A change counts when it is well-founded, undefeated, and every change it names counts.
 *
 * Everything is computed from the set of entries (never their arrival order) and iteratively:
 * an author controls how deep a `deps` chain is, so no recursion follows it.
 */
import type { CryptoProvider } from '../crypto/index.js';
import type { Entry } from '../schemas/entry.js';
import { approvalIsValid } from './admins.js';
import { intersectUntils, withinUntil, type AdminsValue } from './values.js';
import type { StoredEntry } from './stored.js';

export interface AdminSetInput {
  site: string;
  crypto: CryptoProvider;
  /** Every entry of the `admins` key held (genesis and changes), by hash. */
  entries: ReadonlyMap<string, StoredEntry>;
  /** Is this entry at or past its author's fork (equivocation)? */
  forkedOut(e: { author: string; seq: number }): boolean;
}

export interface AdminSet {
  /** Hashes of the admin entries that count. */
  effective: Set<string>;
  /** The admin set each well-founded entry establishes. */
  values: Map<string, AdminsValue>;
  /** Well-founded changes that lost to a concurrent one: hash → the hash that defeated it. */
  defeated: Map<string, string>;
}

/** Concurrent admin sets merge to the admins every one keeps, with the highest quorum. */
export function mergeAdminValues(values: AdminsValue[]): AdminsValue {
  const admins = intersectUntils(values.map((v) => v.admins));
  const activeCount = Object.values(admins).filter((u) => u === null).length;
  const quorum = Math.max(1, Math.min(Math.max(...values.map((v) => v.quorum)), activeCount));
  return { siteName: values[0]!.siteName, admins, quorum };
}

function genesisValue(e: Entry<'site.genesis'>): AdminsValue {
  return { siteName: e.body.name, admins: Object.fromEntries(e.body.admins.map((k) => [k, null])), quorum: e.body.quorum };
}

function changeValue(e: Entry<'admins.change'>, siteName: string): AdminsValue {
  const admins: Record<string, number | null> = {};
  for (const a of e.body.admins) {
    const prev = admins[a.key];
    admins[a.key] = prev === undefined ? a.until : prev === null ? a.until : a.until === null ? prev : Math.min(prev, a.until);
  }
  return { siteName, admins, quorum: e.body.quorum };
}

const activeIn = (v: AdminsValue, k: string) => v.admins[k] === null;

export function resolveAdminSet(input: AdminSetInput): AdminSet {
  const { entries, site } = input;
  const genesis = entries.get(site)?.entry;
  const siteName = genesis?.type === 'site.genesis' ? genesis.body.name : '';
  const values = new Map<string, AdminsValue>();
  const parents = new Map<string, AdminsValue>();
  const invalid = new Set<string>();
  const order: string[] = []; // well-founded changes, every one after the ones it names
  const approvers = new Map<string, Set<string>>();

  const validApprovers = (h: string, e: Entry<'admins.change'>): Set<string> => {
    let set = approvers.get(h);
    if (!set) {
      set = new Set();
      const proposal = { site: e.site, deps: e.deps, admins: e.body.admins, quorum: e.body.quorum };
      for (const a of e.body.approvals) if (a.key !== e.author && !set.has(a.key) && approvalIsValid(a, proposal, input.crypto)) set.add(a.key);
      approvers.set(h, set);
    }
    return set;
  };
  const approvedUnder = (h: string, e: Entry<'admins.change'>, v: AdminsValue): boolean => {
    if (!withinUntil(e.seq, v.admins[e.author])) return false;
    let n = 1;
    for (const k of validApprovers(h, e)) if (activeIn(v, k)) n++;
    return n >= v.quorum;
  };

  // 1. Well-founded entries, deps first, with an explicit stack.
  for (const root of entries.keys()) {
    const stack = [root];
    while (stack.length) {
      const h = stack[stack.length - 1]!;
      if (values.has(h) || invalid.has(h)) {
        stack.pop();
        continue;
      }
      const s = entries.get(h);
      const e = s?.entry;
      if (!e || input.forkedOut(e)) {
        invalid.add(h);
        stack.pop();
        continue;
      }
      if (e.type === 'site.genesis') {
        if (h === site && e.body.admins.includes(e.author)) values.set(h, genesisValue(e));
        else invalid.add(h);
        stack.pop();
        continue;
      }
      if (e.type !== 'admins.change' || e.deps.length === 0) {
        invalid.add(h);
        stack.pop();
        continue;
      }
      const todo = e.deps.filter((d) => !values.has(d) && !invalid.has(d));
      if (todo.length) {
        stack.push(...todo);
        continue;
      }
      stack.pop();
      if (e.deps.some((d) => invalid.has(d))) {
        invalid.add(h);
        continue;
      }
      const parent = mergeAdminValues(e.deps.map((d) => values.get(d)!));
      if (!approvedUnder(h, e, parent)) {
        invalid.add(h);
        continue;
      }
      values.set(h, changeValue(e, siteName));
      parents.set(h, parent);
      order.push(h);
    }
  }

  // 2. Ancestry among well-founded changes (bit sets), and each change's rank.
  const index = new Map(order.map((h, i) => [h, i]));
  const words = Math.ceil(order.length / 32) || 1;
  const ancestors = order.map(() => new Uint32Array(words));
  const rank: Array<[number, number]> = [];
  order.forEach((h, i) => {
    const e = entries.get(h)!.entry as Entry<'admins.change'>;
    for (const d of e.deps) {
      const j = index.get(d);
      if (j === undefined) continue; // the genesis: everyone's ancestor
      ancestors[i]![j >> 5]! |= 1 << (j & 31);
      for (let w = 0; w < words; w++) ancestors[i]![w]! |= ancestors[j]![w]!;
    }
    const v = values.get(h)!;
    const parent = parents.get(h)!;
    const kept = Object.keys(v.admins).filter((k) => activeIn(v, k) && activeIn(parent, k)).length;
    rank.push([kept, Math.min(v.quorum, kept)]);
  });
  const isAncestor = (i: number, j: number) => (ancestors[j]![i >> 5]! & (1 << (i & 31))) !== 0;
  const rankAtMost = (i: number, j: number) => rank[i]![0] < rank[j]![0] || (rank[i]![0] === rank[j]![0] && rank[i]![1] <= rank[j]![1]);

  // 3. What counts.
  const effective = new Set<string>();
  const defeated = new Map<string, string>();
  if (values.has(site)) effective.add(site);
  for (let i = 0; i < order.length; i++) {
    const h = order[i]!;
    const e = entries.get(h)!.entry as Entry<'admins.change'>;
    if (!e.deps.every((d) => effective.has(d))) continue;
    let lostTo: string | undefined;
    for (let j = 0; j < order.length && lostTo === undefined; j++) {
      if (j === i || isAncestor(i, j) || isAncestor(j, i)) continue;
      if (!approvedUnder(h, e, values.get(order[j]!)!) && rankAtMost(i, j)) lostTo = order[j];
    }
    if (lostTo === undefined) effective.add(h);
    else defeated.set(h, lostTo);
  }
  return { effective, values, defeated };
}
