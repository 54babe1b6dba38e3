/**
 * Which admin-set changes count (DESIGN §3: changing the admin set needs the quorum of the set
 * it replaces), judged so that no choice of `deps` lets a change escape a later removal or a
 * raised quorum.
 *
 * 1. A change is *well-founded* when every entry its `deps` name is a well-founded change (or
 *    the genesis), none of them is an ancestor of another (no mixing an old set into a new
 *    one), its author's own last well-founded change is among them or their ancestors (an
 *    author cannot backdate past itself, so one author's changes are never concurrent), and
 *    it is approved under the set those deps give: its author within its `until` at
 *    the change's seq, and approvals from active admins reaching that set's quorum. A change
 *    that only withdraws admins, no more than it keeps, needs at most the admins it keeps
 *    ("removed by the others").
 * 2. Concurrent well-founded changes (neither names the other, directly or not) are judged
 *    against each other. A change signed past the `until` a concurrent change gives its author
 *    loses (removal is positional, whatever the removed key names), and cannot defeat anything.
 *    Otherwise a change that would not be approved under a concurrent change's set loses: a
 *    backdated change that strips others or ignores a raised quorum never wins, and two changes
 *    that refuse each other both lose (the set stays as it was, the safe outcome) until a
 *    change names both. Against a stolen key both sides withdraw each other; the owner then
 *    forks the stolen key at the thief's seq, which voids the thief's side.
 * 3. A change counts when it is well-founded, undefeated, and every change it names counts.
 *    The genesis always counts: it is the site's identity, not a feed entry that can be forked.
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

const activeIn = (v: AdminsValue, k: string) => Object.hasOwn(v.admins, k) && v.admins[k] === null;

export function resolveAdminSet(input: AdminSetInput): AdminSet {
  const { entries, site } = input;
  const genesis = entries.get(site)?.entry;
  const siteName = genesis?.type === 'site.genesis' ? genesis.body.name : '';
  const values = new Map<string, AdminsValue>();
  const invalid = new Set<string>();
  const order: string[] = []; // well-founded changes, every one after the ones it names
  const approvers = new Map<string, Set<string>>();
  const index = new Map<string, number>();
  const ancestors: Uint32Array[] = [];
  let words = 1;
  while (words * 32 < entries.size) words *= 2;

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
  const approvedUnder = (h: string, e: Entry<'admins.change'>, v: AdminsValue, needed = v.quorum): boolean => {
    if (!withinUntil(e.seq, own(v.admins, e.author))) return false;
    let n = 1;
    for (const k of validApprovers(h, e)) if (activeIn(v, k)) n++;
    return n >= needed;
  };
  const isAncestor = (a: string, of: string) => {
    const i = index.get(a);
    const bits = ancestors[index.get(of)!]!;
    return i !== undefined && (bits[i >> 5]! & (1 << (i & 31))) !== 0;
  };

  // An author's changes in feed order: each must build on the author's own last well-founded
  // change, so one author's changes are never concurrent with each other.
  const previous = new Map<string, string>();
  const lastWellFounded = new Map<string, string | undefined>();
  const byAuthor = new Map<string, Array<[number, string]>>();
  for (const [h, st] of entries) {
    if (st.entry.type !== 'admins.change' && h !== site) continue;
    let list = byAuthor.get(st.entry.author);
    if (!list) byAuthor.set(st.entry.author, (list = []));
    list.push([st.entry.seq, h]);
  }
  for (const list of byAuthor.values()) {
    list.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
    for (let i = 1; i < list.length; i++) previous.set(list[i]![1], list[i - 1]![1]);
  }
  const decided = (h: string) => values.has(h) || invalid.has(h);
  const lastBefore = (h: string): string | undefined => {
    const p = previous.get(h);
    return p === undefined ? undefined : values.has(p) ? p : lastWellFounded.get(p);
  };

  // 1. Well-founded entries, deps and the author's previous change first, with an explicit stack.
  if (genesis?.type === 'site.genesis' && genesis.body.admins.includes(genesis.author)) {
    values.set(site, genesisValue(genesis));
    index.set(site, 0);
    ancestors.push(new Uint32Array(words));
  }
  for (const root of entries.keys()) {
    const stack = [root];
    while (stack.length) {
      const h = stack[stack.length - 1]!;
      if (decided(h)) {
        stack.pop();
        continue;
      }
      const e = entries.get(h)?.entry;
      const prev = previous.get(h);
      if (!e || e.type !== 'admins.change' || e.deps.length === 0 || input.forkedOut(e)) {
        if (prev !== undefined && !decided(prev)) {
          stack.push(prev);
          continue;
        }
        invalid.add(h);
        lastWellFounded.set(h, lastBefore(h));
        stack.pop();
        continue;
      }
      const undecided = e.deps.filter((d) => !decided(d));
      if (prev !== undefined && !decided(prev)) undecided.push(prev);
      if (undecided.length) {
        stack.push(...undecided);
        continue;
      }
      stack.pop();
      const mine = lastBefore(h);
      lastWellFounded.set(h, mine);
      if (e.deps.some((d) => invalid.has(d)) || e.deps.some((d) => e.deps.some((o) => o !== d && isAncestor(d, o)))) {
        invalid.add(h);
        continue;
      }
      if (mine !== undefined && !e.deps.includes(mine) && !e.deps.some((d) => isAncestor(mine, d))) {
        invalid.add(h); // it ignores its author's own last change to the admin set
        continue;
      }
      const parent = mergeAdminValues(e.deps.map((d) => values.get(d)!));
      if (!approvedUnder(h, e, parent, neededFor(e, parent))) {
        invalid.add(h);
        continue;
      }
      const bits = new Uint32Array(words);
      for (const d of e.deps) {
        const j = index.get(d)!;
        bits[j >> 5]! |= 1 << (j & 31);
        const from = ancestors[j]!;
        for (let w = 0; w < words; w++) bits[w]! |= from[w]!;
      }
      index.set(h, ancestors.length);
      ancestors.push(bits);
      values.set(h, changeValue(e, siteName));
      order.push(h);
    }
  }

  // 2. Concurrent changes judged against each other.
  const change = (h: string) => entries.get(h)!.entry as Entry<'admins.change'>;
  const concurrent = (a: string, b: string) => a !== b && !isAncestor(a, b) && !isAncestor(b, a);
  /** Is change `x` signed past the `until` that change `y` gives its author? */
  const withdrawnBy = (x: string, y: string) => {
    const u = own(values.get(y)!.admins, change(x).author);
    return typeof u === 'number' && change(x).seq > u;
  };
  const defeated = new Map<string, string>();
  const positional = new Set<string>();
  for (const x of order) {
    const y = order.find((o) => concurrent(x, o) && withdrawnBy(x, o));
    if (y !== undefined) (positional.add(x), defeated.set(x, y));
  }
  for (const x of order) {
    if (defeated.has(x)) continue;
    const y = order.find((o) => !positional.has(o) && concurrent(x, o) && !withdrawnBy(o, x) && !approvedUnder(x, change(x), values.get(o)!));
    if (y !== undefined) defeated.set(x, y);
  }

  // 3. What counts, deps first.
  const effective = new Set<string>();
  if (values.has(site)) effective.add(site);
  for (const h of order) if (!defeated.has(h) && change(h).deps.every((d) => effective.has(d))) effective.add(h);
  return { effective, values, defeated };
}

/** An own property only: ids such as `constructor` must not find Object.prototype's. */
function own<V>(r: Record<string, V>, k: string): V | undefined {
  return Object.hasOwn(r, k) ? r[k] : undefined;
}

/**
 * Approvals a change needs under `parent`: its quorum, except that a change which only
 * withdraws admins (adds or re-activates none, raises no quorum), keeping at least as many as
 * it withdraws, needs no more than the admins it keeps: a lost or forked key is removed by the
 * others (DESIGN §3), and no minority can strip a majority.
 */
function neededFor(e: Entry<'admins.change'>, parent: AdminsValue): number {
  const next = changeValue(e, parent.siteName);
  const active = (v: AdminsValue) => Object.keys(v.admins).filter((k) => activeIn(v, k));
  const before = active(parent);
  const after = new Set(active(next));
  if ([...after].some((k) => !activeIn(parent, k)) || next.quorum > parent.quorum) return parent.quorum;
  const kept = before.filter((k) => after.has(k)).length;
  const withdrawn = before.length - kept;
  return withdrawn > 0 && withdrawn <= kept ? Math.min(parent.quorum, kept) : parent.quorum;
}
