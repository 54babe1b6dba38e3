/**
 * The policy reducer: a set of verified entries → the space's rules (DESIGN §3–5).
 *
 * Every policy key is a multi-value register whose value is merged from its heads (effective
 * entries for that key that no other effective entry names in `deps`). Whether an entry is
 * effective (its author had the authority) is decided against the merged state of the keys
 * that grant authority, never against arrival order, so any delivery order of the same set,
 * duplicates included, gives the same state (authority.ts, admin-set.ts, trainers.ts). Trust is judged at the position an entry claims in its author's feed: `until` (the last seq
 * of a feed that still counts) withdraws an admin, a trainer or a node without voiding what
 * they signed before, and no choice of `deps` escapes it.
 *
 * Values are computed lazily and cached; adding an entry drops only the cached values it can
 * change (`dependents`), so keeping the state up to date costs little per entry. Entries this
 * release does not understand are held inert: they count only towards fork detection.
 */
import { ProtocolError } from '../errors.js';
import { defaultCrypto, type CryptoProvider } from '../crypto/index.js';
import { entryHash } from '../entry.js';
import { isKnownEntry, type AnyEntry, type Entry } from '../schemas/entry.js';
import { isEventType } from '../schemas/bodies.js';
import { policyKeyOf } from './keys.js';
import { mergeAdminValues, resolveAdminSet, type AdminSet } from './admin-set.js';
import { entryCounts, eventCounts, type AuthorityView } from './authority.js';
import { DependencyIndex } from './dependencies.js';
import { Equivocations } from './equivocations.js';
import { conflictsOf, digestOf, snapshotOf } from './snapshot.js';
import type { StoredEntry } from './stored.js';
import type { AddOutcome, Conflict, EventRef, Fork, PolicyView, Register } from './types.js';
import {
  type AdminsValue, type BundleValue, type CardValue, type CertValue, type Head, type LockoutValue, type MemberValue, type NodeValue, type ResourceValue,
  mergeBundle, mergeCard, mergeCert, mergeLockout, mergeMember, mergeNode, mergeResource, replacementAsRetirement, withinUntil,
} from './values.js';

export type { StoredEntry };

export type { AddOutcome, Conflict, EventRef, Fork, PolicyView, Register } from './types.js';

export class PolicyState implements PolicyView, AuthorityView {
  private readonly all = new Map<string, StoredEntry>();
  private readonly byKey = new Map<string, Set<string>>();
  private readonly equivocations = new Equivocations();
  /** Access events are kept compactly (a replica may hold hundreds of thousands). */
  private readonly eventIndex = new Map<string, EventRef>();

  private readonly inert = new Set<string>();
  private readonly ticks = new Set<string>();
  private readonly deps = new DependencyIndex();
  /** Old node key → hashes of the `node.enrol` entries that name it in `replaces` (DESIGN §10). */
  private readonly replacedBy = new Map<string, Set<string>>();

  private readonly regCache = new Map<string, Register<unknown> | null>();
  private readonly certCache = new Map<string, Register<CertValue> | null>();
  private adminsCache: Register<AdminsValue> | null | undefined;
  private adminSetCache: AdminSet | undefined;

  /**
   * `events`: for a store that keeps access events itself (the ledger, in SQLite). The state
   * then holds none of them, which a replica with millions would feel in memory and in GC time,
   * and asks `events()` for them when it needs the list (the digest). The store then also
   * reports equivocations over events with `noteSeqs`.
   */
  constructor(readonly site: string, readonly crypto: CryptoProvider = defaultCrypto, private readonly options: { events?: () => Iterable<EventRef> } = {}) {}

  /** Adds one verified entry (schema and signature already checked). */
  add(entry: AnyEntry, hash: string = entryHash(entry, this.crypto)): AddOutcome {
    if (this.all.has(hash) || this.eventIndex.has(hash) || this.inert.has(hash) || this.ticks.has(hash)) return 'duplicate';
    if (entry.type === 'site.genesis' ? hash !== this.site : entry.site !== this.site) return 'wrong-site';
    if (!isKnownEntry(entry)) {
      this.inert.add(hash);
      this.trackSeq(entry.author, entry.seq, hash);
      return 'inert';
    }
    const key = policyKeyOf(entry);
    // A clock tick changes nothing: it counts towards its feed's chain and fork detection only.
    if (key === null && !isEventType(entry.type)) return (this.ticks.add(hash), this.trackSeq(entry.author, entry.seq, hash), 'added');
    if (key === null && this.options.events) throw new ProtocolError('EVENTS_KEPT_BY_STORE', `${entry.type} is an access event; record it in the store that was given as \`events\`, not with add().`);
    if (key === null) {
      this.eventIndex.set(hash, { hash, author: entry.author, seq: entry.seq, resource: (entry.body as { resource: string }).resource });
    } else {
      this.all.set(hash, { hash, entry, key });
    }

    this.trackSeq(entry.author, entry.seq, hash);
    if (key === null) return 'added';
    let set = this.byKey.get(key);
    if (!set) this.byKey.set(key, (set = new Set()));
    set.add(hash);
    this.deps.note(entry, key);
    if (entry.type === 'node.enrol' && entry.body.replaces) {
      const old = entry.body.replaces.node;
      let by = this.replacedBy.get(old);
      if (!by) this.replacedBy.set(old, (by = new Set()));
      by.add(hash);
    }
    this.invalidateFor(key);
    return 'added';
  }

  /**
   * The policy keys whose value may change when the `touched` keys changed (touched included):
   * what a store must rewrite. Everything when the admin set changed.
   */
  dependents(touched: Iterable<string>): Set<string> {
    const list = [...touched];
    return list.includes('admins') ? new Set(this.byKey.keys()) : this.deps.dependents(list);
  }

  /**
   * Does `author` hold any authority at all (an admin, even withdrawn; a member's key; an
   * enrolled node, even retired)? A store keeps feeds of keys without any apart and bounded.
   */
  hasAuthority(author: string): boolean {
    if (Object.hasOwn(this.admins()?.value.admins ?? {}, author)) return true;
    if (this.node(author)) return true;
    for (const m of this.deps.ownersOf(author)) if (this.member(m)?.keys[author] !== undefined) return true;
    return false;
  }

  /**
   * Does `author` hold authority for its entry `seq` (an admin, a node or a member's key within
   * its `until`)? Entries past every such position count for nothing: a store keeps them apart.
   */
  hasAuthorityAt(author: string, seq: number): boolean {
    if (this.isAdminKey(author, seq) || this.trustedNode(author, seq)) return true;
    for (const m of this.deps.ownersOf(author)) if (withinUntil(seq, this.member(m)?.keys[author])) return true;
    return false;
  }

  /** Entries held inert (a type or body this release does not understand). */
  get inertCount(): number {
    return this.inert.size;
  }

  /**
   * Records entries `hashes` at (author, seq) for equivocation, each once: how a store that keeps
   * access events itself reports a fork whose entries the state does not hold.
   */
  noteSeqs(author: string, seq: number, hashes: string[]): void {
    for (const h of hashes) this.trackSeq(author, seq, h);
  }

  private trackSeq(author: string, seq: number, hash: string): void {
    if (this.equivocations.track(author, seq, hash)) this.invalidateAll(); // trust in that author's feed changed
  }

  addAll(entries: Iterable<AnyEntry>): void {
    for (const e of entries) this.add(e);
  }

  has(hash: string): boolean {
    return this.all.has(hash);
  }

  get(hash: string): AnyEntry | undefined {
    return this.all.get(hash)?.entry;
  }

  /** Every policy entry held (not access events), effective or not, in no particular order. */
  *entries(): IterableIterator<AnyEntry> {
    for (const s of this.all.values()) yield s.entry;
  }

  /** Entries held, access events included (unless a store keeps them: see the constructor). */
  get size(): number {
    return this.all.size + this.eventIndex.size + this.inert.size + this.ticks.size;
  }

  private invalidateAll(): void {
    this.regCache.clear();
    this.certCache.clear();
    this.adminsCache = undefined;
    this.adminSetCache = undefined;
  }

  private invalidateFor(key: string): void {
    if (key === 'admins') return this.invalidateAll();
    for (const k of this.dependents([key])) {
      if (k.startsWith('cert/')) this.certCache.delete(k);
      else this.regCache.delete(k);
    }
  }

  // ---- authority -------------------------------------------------------------------------
  private forkedOut(e: { author: string; seq: number }): boolean {
    return this.equivocations.forkedOut(e.author, e.seq);
  }

  /** Does `author` hold admin authority for its entry number `seq`? */
  isAdminKey(author: string, seq: number): boolean {
    const admins = this.admins();
    return !!admins && withinUntil(seq, admins.value.admins[author]);
  }

  /** Is an entry by `author` at `seq` past a fork of its feed? */
  isForkedOut(author: string, seq: number): boolean {
    return this.forkedOut({ author, seq });
  }

  trustedNode(author: string, seq: number): NodeValue | undefined {
    const n = this.node(author);
    if (!n) return undefined;
    if (n.retired && (n.lastSeq === null || seq > n.lastSeq)) return undefined;
    return n;
  }

  adminEntryCounts(hash: string): boolean {
    return this.adminSet().effective.has(hash);
  }

  countingEntry(hash: string, key: string): Head | undefined {
    const s = this.all.get(hash);
    return s?.key === key && this.effective(s) ? { hash, entry: s.entry } : undefined;
  }

  private effective(s: StoredEntry): boolean {
    return entryCounts(this, s);
  }

  /** Does an access event by `author` (entry `seq`) about `resource` count? */
  eventIsTrusted(author: string, seq: number, resource: string): boolean {
    return eventCounts(this, author, seq, resource);
  }

  /** The admin entries that count, and the set each establishes (admin-set.ts). */
  private adminSet(): AdminSet {
    if (!this.adminSetCache) {
      const entries = new Map<string, StoredEntry>();
      for (const h of this.byKey.get('admins') ?? []) entries.set(h, this.all.get(h)!);
      this.adminSetCache = resolveAdminSet({ site: this.site, crypto: this.crypto, entries, forkedOut: (e) => this.forkedOut(e) });
    }
    return this.adminSetCache;
  }

  /** Admin-set changes that lost to a concurrent change (shown to admins): hash → the winner. */
  defeatedAdminChanges(): Map<string, string> {
    return new Map(this.adminSet().defeated);
  }

  // ---- registers ------------------------------------------------------------------------

  /**
   * Effective heads of a key, sorted by hash. A node key's candidates include each effective
   * enrolment of another key that replaces it, read as a retirement at the `lastSeq` it names:
   * the same rules as a `node.retire` (a later entry for the key whose deps name it supersedes it).
   */
  heads(key: string): Head[] {
    const hashes = this.byKey.get(key);
    if (!hashes) return [];
    const eff: StoredEntry[] = [];
    for (const h of hashes) {
      const s = this.all.get(h)!;
      if (this.effective(s)) eff.push(s);
    }
    if (key.startsWith('node/')) for (const h of this.replacedBy.get(key.slice(5)) ?? []) {
      const s = this.all.get(h)!;
      if (this.effective(s)) eff.push(replacementAsRetirement(s, (d) => (this.all.has(d) && this.effective(this.all.get(d)!) ? this.all.get(d) : undefined)));
    }
    const covered = new Set<string>();
    for (const s of eff) for (const d of s.entry.deps) covered.add(d);
    return eff
      .filter((s) => !covered.has(s.hash))
      .sort((a, b) => (a.hash < b.hash ? -1 : 1))
      .map((s) => ({ hash: s.hash, entry: s.entry }));
  }

  /** Hashes to put in `deps` of a new entry for `key`. */
  headHashes(key: string): string[] {
    return this.heads(key).map((h) => h.hash);
  }

  private register<V>(key: string, merge: (heads: Head[]) => V, cache: Map<string, Register<V> | null>): Register<V> | undefined {
    const hit = cache.get(key);
    if (hit !== undefined) return hit ?? undefined;
    const heads = this.heads(key);
    const reg = heads.length ? { value: merge(heads), heads: heads.map((h) => h.hash) } : null;
    cache.set(key, reg);
    return reg ?? undefined;
  }

  admins(): Register<AdminsValue> | undefined {
    if (this.adminsCache === undefined) {
      const heads = this.heads('admins');
      const values = this.adminSet().values;
      this.adminsCache = heads.length ? { value: mergeAdminValues(heads.map((h) => values.get(h.hash)!)), heads: heads.map((h) => h.hash) } : null;
    }
    return this.adminsCache ?? undefined;
  }

  private reg<V>(key: string, merge: (heads: Head[]) => V): Register<V> | undefined {
    return this.register(key, merge, this.regCache as Map<string, Register<V> | null>);
  }

  member(id: string): MemberValue | undefined {
    return this.reg(`member/${id}`, mergeMember)?.value;
  }
  card(ref: string): CardValue | undefined {
    return this.reg(`card/${ref}`, (h) => mergeCard(ref, h))?.value;
  }
  resource(id: string): ResourceValue | undefined {
    return this.reg(`resource/${id}`, mergeResource)?.value;
  }
  node(key: string): NodeValue | undefined {
    return this.reg(`node/${key}`, (heads) => mergeNode(heads, this.effectiveOfType(`node/${key}`, 'node.enrol')))?.value;
  }
  lockout(resource: string): LockoutValue | undefined {
    return this.reg(`lockout/${resource}`, mergeLockout)?.value;
  }
  /** The publication of the bundle whose manifest hash is `manifest` (DESIGN §8). */
  bundle(manifest: string): BundleValue | undefined {
    return this.reg(`bundle/${manifest}`, mergeBundle)?.value;
  }

  /** Every effective entry of `type` for `key`, superseded ones included, by hash. */
  private effectiveOfType<T extends AnyEntry['type']>(key: string, type: T): Array<Entry<T>> {
    const out: Array<Entry<T>> = [];
    for (const h of [...(this.byKey.get(key) ?? [])].sort()) {
      const s = this.all.get(h)!;
      if (s.entry.type === type && this.effective(s)) out.push(s.entry as Entry<T>);
    }
    return out;
  }
  cert(member: string, cert: string): CertValue | undefined {
    return this.register(`cert/${member}/${cert}`, (h) => mergeCert(member, cert, h), this.certCache)?.value;
  }
  certified(member: string, cert: string): boolean {
    return this.cert(member, cert)?.granted === true;
  }
  everCertified(member: string, cert: string): boolean {
    for (const h of this.byKey.get(`cert/${member}/${cert}`) ?? []) {
      const s = this.all.get(h)!;
      if (s.entry.type === 'cert.grant' && this.effective(s)) return true;
    }
    return false;
  }
  isAdminMember(member: string): boolean {
    const m = this.member(member);
    const admins = this.admins()?.value.admins;
    if (!m || !admins) return false;
    return Object.entries(m.keys).some(([k, u]) => u === null && admins[k] === null);
  }

  /** Register value of any policy key (for generic views). */
  valueOf(key: string): unknown {
    const [kind, a, b] = key.split('/');
    switch (kind) {
      case 'admins': return this.admins()?.value;
      case 'member': return this.member(a!);
      case 'card': return this.card(a!);
      case 'resource': return this.resource(a!);
      case 'node': return this.node(a!);
      case 'cert': return this.cert(a!, b!);
      case 'lockout': return this.lockout(a!);
      case 'bundle': return this.bundle(a!);
      default: return undefined;
    }
  }

  keys(prefix = ''): string[] {
    return [...this.byKey.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  /** Registers with several heads whose bodies differ: shown to admins until resolved. */
  conflicts(): Conflict[] {
    return conflictsOf(this);
  }

  /** Equivocations: two different entries with the same (author, seq). Both are kept as proof. */
  forks(): Fork[] {
    return this.equivocations.list().map((f) => ({ ...f, resolved: !this.hasAuthorityAt(f.author, f.seq) }));
  }

  /** Access events that count (their node was trusted for that resource), sorted by hash. */
  events(): EventRef[] {
    const out: EventRef[] = [];
    for (const ev of this.options.events?.() ?? this.eventIndex.values()) {
      if (this.eventIsTrusted(ev.author, ev.seq, ev.resource)) out.push(ev);
    }
    return out.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  }

  /** The whole materialised state as one plain, canonical-encodable object. */
  snapshot(): Record<string, unknown> {
    return snapshotOf(this);
  }

  /** SHA-256 of the canonical snapshot: two replicas with the same digest agree on everything. */
  digest(): string {
    return digestOf(this);
  }

  /** Builds the state from entries in any order. */
  static from(site: string, entries: Iterable<AnyEntry>, crypto: CryptoProvider = defaultCrypto): PolicyState {
    const s = new PolicyState(site, crypto);
    s.addAll(entries);
    return s;
  }
}

export { isEventType };

