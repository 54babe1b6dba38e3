/**
 * The policy reducer: a set of verified entries → the space's rules (DESIGN §3–5).
 *
 * Every policy key is a multi-value register whose value is merged from its heads (effective
 * entries for that key that no other effective entry names in `deps`). Whether an entry is
 * effective (its author had the authority) is decided against the merged state of the keys
 * that grant authority, never against arrival order, so any delivery order of the same set,
 * duplicates included, gives the same state. Authority is layered so it cannot loop:
 *   admins (genesis + quorum-approved changes)  →  nodes, members, cards, resources
 *   → certifications (admin, trainer within scope, or an enrolled node's panel for a trainer)
 *   → access events (an enrolled node, for a resource it controls).
 * Trust is withdrawn with `until` (the last seq of a feed that still counts), so removing an
 * admin, a trainer's scope or a node never voids what they signed before.
 *
 * Values are computed lazily and cached; adding an entry drops only the cached values it can
 * change, so keeping the state up to date costs little per entry.
 */
import { canonicalBytes, canonicalString } from '../canonical.js';
import { toHex } from '../bytes.js';
import { ProtocolError } from '../errors.js';
import { defaultCrypto, type CryptoProvider } from '../crypto/index.js';
import { entryHash } from '../entry.js';
import type { AnyEntry, Entry } from '../schemas/entry.js';
import { isEventType } from '../schemas/bodies.js';
import { policyKeyOf } from './keys.js';
import { approvalIsValid } from './admins.js';
import {
  type AdminsValue, type CardValue, type CertValue, type Head, type MemberValue, type NodeValue, type ResourceValue,
  intersectUntils, mergeCard, mergeCert, mergeMember, mergeNode, mergeResource, minUntil, withinUntil,
} from './values.js';

export interface Register<V> {
  value: V;
  heads: string[];
}

export interface Conflict {
  key: string;
  heads: string[];
}

export interface Fork {
  author: string;
  seq: number;
  hashes: string[];
}

export type AddOutcome = 'added' | 'duplicate' | 'wrong-site';

/** Read access to the rules; what `decide()` needs. The ledger implements it too. */
export interface PolicyView {
  resource(id: string): ResourceValue | undefined;
  card(uid: string): CardValue | undefined;
  member(id: string): MemberValue | undefined;
  /** Is the certification currently granted? */
  certified(member: string, cert: string): boolean;
  /** Does one of the member's trusted keys hold admin authority? */
  isAdminMember(member: string): boolean;
}

/** What the reducer keeps of an access event: enough to judge whether it counts. */
export interface EventRef {
  hash: string;
  author: string;
  seq: number;
  resource: string;
}

export interface StoredEntry {
  hash: string;
  entry: AnyEntry;
  key: string | null;
}

export class PolicyState implements PolicyView {
  private readonly all = new Map<string, StoredEntry>();
  private readonly byKey = new Map<string, Set<string>>();
  private readonly seqs = new Map<string, Map<number, string[]>>();
  private readonly forkAt = new Map<string, number>();
  /** Access events are kept compactly (a replica may hold hundreds of thousands). */
  private readonly eventIndex = new Map<string, EventRef>();

  private readonly regCache = new Map<string, Register<unknown> | null>();
  private readonly certCache = new Map<string, Register<CertValue> | null>();
  private adminsCache: Register<AdminsValue> | null | undefined;
  private readonly adminChangeValid = new Map<string, boolean>();

  /**
   * `events`: for a store that keeps access events itself (the ledger, in SQLite). The state
   * then holds none of them, which a replica with millions would feel in memory and in GC time,
   * and asks `events()` for them when it needs the list (the digest). The store then also
   * reports equivocations over events with `noteSeqs`.
   */
  constructor(readonly site: string, readonly crypto: CryptoProvider = defaultCrypto, private readonly options: { events?: () => Iterable<EventRef> } = {}) {}

  /** Adds one verified entry (schema and signature already checked). */
  add(entry: AnyEntry, hash: string = entryHash(entry, this.crypto)): AddOutcome {
    if (this.all.has(hash) || this.eventIndex.has(hash)) return 'duplicate';
    if (entry.type === 'site.genesis' ? hash !== this.site : entry.site !== this.site) return 'wrong-site';
    const key = policyKeyOf(entry);
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
    this.invalidateFor(key);
    return 'added';
  }

  /**
   * Records entries `hashes` at (author, seq) for equivocation, each once: how a store that keeps
   * access events itself reports a fork whose entries the state does not hold.
   */
  noteSeqs(author: string, seq: number, hashes: string[]): void {
    for (const h of hashes) if (!this.seqs.get(author)?.get(seq)?.includes(h)) this.trackSeq(author, seq, h);
  }

  private trackSeq(author: string, seq: number, hash: string): void {
    let bySeq = this.seqs.get(author);
    if (!bySeq) this.seqs.set(author, (bySeq = new Map()));
    const same = bySeq.get(seq);
    if (!same) {
      bySeq.set(seq, [hash]);
      return;
    }
    same.push(hash);
    const at = this.forkAt.get(author);
    if (at === undefined || seq < at) this.forkAt.set(author, seq);
    this.invalidateAll(); // trust in that author's feed changed
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
    return this.all.size + this.eventIndex.size;
  }

  private invalidateAll(): void {
    this.regCache.clear();
    this.certCache.clear();
    this.adminsCache = undefined;
    this.adminChangeValid.clear();
  }

  private invalidateFor(key: string): void {
    if (key === 'admins') return this.invalidateAll();
    if (key.startsWith('cert/')) {
      this.certCache.delete(key);
      return;
    }
    this.regCache.delete(key);
    // Members (trainer scope), nodes (panels) and resources (which certs a panel may issue)
    // grant authority over certifications.
    if (!key.startsWith('card/')) this.certCache.clear();
  }

  // ---- authority -------------------------------------------------------------------------

  private forkedOut(e: { author: string; seq: number }): boolean {
    const at = this.forkAt.get(e.author);
    return at !== undefined && e.seq >= at;
  }

  /** Does `author` hold admin authority for its entry number `seq`? */
  isAdminKey(author: string, seq: number): boolean {
    const admins = this.admins();
    return !!admins && withinUntil(seq, admins.value.admins[author]);
  }

  private nodeTrusted(author: string, seq: number): NodeValue | undefined {
    const n = this.node(author);
    if (!n) return undefined;
    if (n.retired && (n.lastSeq === null || seq > n.lastSeq)) return undefined;
    return n;
  }

  private effective(s: StoredEntry): boolean {
    const e = s.entry;
    if (this.forkedOut(e)) return false;
    switch (e.type) {
      case 'site.genesis':
        return s.hash === this.site && e.body.admins.includes(e.author);
      case 'admins.change':
        return this.adminChangeIsValid(s.hash);
      case 'node.enrol':
      case 'node.retire':
      case 'member.put':
      case 'card.bind':
      case 'card.unbind':
      case 'resource.put':
        return this.isAdminKey(e.author, e.seq);
      case 'cert.grant':
      case 'cert.revoke':
        return this.isAdminKey(e.author, e.seq) || this.trainerMayCertify(e);
      default:
        return this.eventIsTrusted(e.author, e.seq, (e.body as { resource: string }).resource);
    }
  }

  private trainerMayCertify(e: Entry<'cert.grant'> | Entry<'cert.revoke'>): boolean {
    const trainerId = e.type === 'cert.grant' ? e.body.grantedBy : e.body.revokedBy;
    if (trainerId === null) return false;
    const trainer = this.member(trainerId);
    if (!trainer) return false;
    // Signed with the trainer's own key, within the scope it held at that point of its feed.
    if (withinUntil(e.seq, trainer.keys[e.author])) return withinUntil(e.seq, trainer.trainerFor[e.body.cert]);
    // Or recorded by a machine panel where the trainer tapped in: the node must control a
    // resource that requires this cert, and the trainer's scope must be current.
    const node = this.nodeTrusted(e.author, e.seq);
    if (!node || trainer.trainerFor[e.body.cert] !== null || trainer.status !== 'active') return false;
    return node.resources.some((r) => this.resource(r)?.requiredCerts.includes(e.body.cert));
  }

  /** Does an access event by `author` (entry `seq`) about `resource` count? */
  eventIsTrusted(author: string, seq: number, resource: string): boolean {
    if (this.forkedOut({ author, seq })) return false;
    const node = this.nodeTrusted(author, seq);
    return !!node && node.resources.includes(resource);
  }

  private adminChangeIsValid(hash: string, depth = 0): boolean {
    const known = this.adminChangeValid.get(hash);
    if (known !== undefined) return known;
    const s = this.all.get(hash);
    let ok = false;
    if (s && depth < 10_000) {
      const e = s.entry;
      if (e.type === 'site.genesis') ok = !this.forkedOut(e) && hash === this.site && e.body.admins.includes(e.author);
      else if (e.type === 'admins.change' && !this.forkedOut(e) && e.deps.length > 0) {
        const parents: Head[] = [];
        ok = true;
        for (const d of e.deps) {
          const p = this.all.get(d);
          if (!p || p.key !== 'admins' || !this.adminChangeIsValid(d, depth + 1)) {
            ok = false;
            break;
          }
          parents.push({ hash: d, entry: p.entry });
        }
        if (ok) ok = this.approvedByQuorum(e, this.mergeAdmins(parents));
      }
    }
    this.adminChangeValid.set(hash, ok);
    return ok;
  }

  private approvedByQuorum(e: Entry<'admins.change'>, parent: AdminsValue): boolean {
    const active = (k: string) => k in parent.admins && parent.admins[k] === null;
    if (!active(e.author)) return false;
    const approvers = new Set([e.author]);
    const proposal = { site: e.site, deps: e.deps, admins: e.body.admins, quorum: e.body.quorum };
    for (const a of e.body.approvals) {
      if (!approvers.has(a.key) && active(a.key) && approvalIsValid(a, proposal, this.crypto)) approvers.add(a.key);
    }
    return approvers.size >= parent.quorum;
  }

  private adminsValueOf(h: Head): AdminsValue {
    const e = h.entry;
    if (e.type === 'site.genesis') {
      return { siteName: e.body.name, admins: Object.fromEntries(e.body.admins.map((k) => [k, null])), quorum: e.body.quorum };
    }
    const c = e as Entry<'admins.change'>;
    const admins: Record<string, number | null> = {};
    for (const a of c.body.admins) admins[a.key] = a.key in admins ? minUntil(admins[a.key]!, a.until) : a.until;
    return { siteName: this.genesisName(), admins, quorum: c.body.quorum };
  }

  private genesisName(): string {
    const g = this.all.get(this.site)?.entry;
    return g?.type === 'site.genesis' ? g.body.name : '';
  }

  /** Concurrent admin sets merge to the admins every head keeps, with the highest quorum. */
  private mergeAdmins(heads: Head[]): AdminsValue {
    const values = heads.map((h) => this.adminsValueOf(h));
    const admins = intersectUntils(values.map((v) => v.admins));
    const activeCount = Object.values(admins).filter((u) => u === null).length;
    const quorum = Math.max(1, Math.min(Math.max(...values.map((v) => v.quorum)), activeCount));
    return { siteName: values[0]!.siteName, admins, quorum };
  }

  // ---- registers ------------------------------------------------------------------------

  /** Effective heads of a key, sorted by hash. */
  heads(key: string): Head[] {
    const hashes = this.byKey.get(key);
    if (!hashes) return [];
    const eff: StoredEntry[] = [];
    for (const h of hashes) {
      const s = this.all.get(h)!;
      if (this.effective(s)) eff.push(s);
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
      this.adminsCache = heads.length ? { value: this.mergeAdmins(heads), heads: heads.map((h) => h.hash) } : null;
    }
    return this.adminsCache ?? undefined;
  }

  private reg<V>(key: string, merge: (heads: Head[]) => V): Register<V> | undefined {
    return this.register(key, merge, this.regCache as Map<string, Register<V> | null>);
  }

  member(id: string): MemberValue | undefined {
    return this.reg(`member/${id}`, mergeMember)?.value;
  }
  card(uid: string): CardValue | undefined {
    return this.reg(`card/${uid}`, (h) => mergeCard(uid, h))?.value;
  }
  resource(id: string): ResourceValue | undefined {
    return this.reg(`resource/${id}`, mergeResource)?.value;
  }
  node(key: string): NodeValue | undefined {
    return this.reg(`node/${key}`, mergeNode)?.value;
  }
  cert(member: string, cert: string): CertValue | undefined {
    return this.register(`cert/${member}/${cert}`, (h) => mergeCert(member, cert, h), this.certCache)?.value;
  }
  certified(member: string, cert: string): boolean {
    return this.cert(member, cert)?.granted === true;
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
      default: return undefined;
    }
  }

  keys(prefix = ''): string[] {
    return [...this.byKey.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  /** Registers with several heads whose bodies differ: shown to admins until resolved. */
  conflicts(): Conflict[] {
    const out: Conflict[] = [];
    for (const key of this.keys()) {
      const heads = this.heads(key);
      if (heads.length < 2) continue;
      const bodies = new Set(heads.map((h) => `${h.entry.type}:${canonicalString(h.entry.body)}`));
      if (bodies.size > 1) out.push({ key, heads: heads.map((h) => h.hash) });
    }
    return out;
  }

  /** Equivocations: two different entries with the same (author, seq). Both are kept as proof. */
  forks(): Fork[] {
    const out: Fork[] = [];
    for (const [author, at] of [...this.forkAt].sort()) {
      out.push({ author, seq: at, hashes: [...this.seqs.get(author)!.get(at)!].sort() });
    }
    return out;
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
    const values: Record<string, unknown> = {};
    for (const key of this.keys()) {
      const v = this.valueOf(key);
      if (v !== undefined) values[key] = v;
    }
    const events = this.events().map((s) => s.hash);
    return {
      site: this.site,
      values,
      conflicts: this.conflicts(),
      forks: this.forks(),
      events: { count: events.length, digest: toHex(this.crypto.sha256(canonicalBytes(events))) },
    };
  }

  /** SHA-256 of the canonical snapshot: two replicas with the same digest agree on everything. */
  digest(): string {
    return toHex(this.crypto.sha256(canonicalBytes(this.snapshot())));
  }

  /** Builds the state from entries in any order. */
  static from(site: string, entries: Iterable<AnyEntry>, crypto: CryptoProvider = defaultCrypto): PolicyState {
    const s = new PolicyState(site, crypto);
    s.addAll(entries);
    return s;
  }
}

export { isEventType };
