/**
 * Test support shared by the packages' tests: a site with named writers, each holding its own
 * in-memory replica, so tests can play out partitions, concurrent edits and merges with real
 * signed entries. `@keymesh/testkit/site`; never imported by a shipped package.
 */
import { type AnyEntry, type BodyOf, cardRef, normaliseCardUid, toHex, utf8, type CryptoProvider, defaultCrypto, entryHash, type EntryType, HybridClock, type KeyPair, keyPairFromSeed, policyKeyOf, PolicyState, signEntry } from '@keymesh/protocol';

const testKeys = new Map<string, KeyPair>();

/** A fixed key for test identity `n` (deterministic, so failures reproduce; cached, as key import is slow). */
export function testKey(n: number, crypto: CryptoProvider = defaultCrypto): KeyPair {
  const id = `${crypto.name}:${n}`;
  let kp = testKeys.get(id);
  if (!kp) {
    const seed = new Uint8Array(32);
    seed.fill(n & 0xff);
    seed[0] = 0x4b; // 'K'
    seed[31] = (n >> 8) & 0xff;
    testKeys.set(id, (kp = keyPairFromSeed(seed, crypto)));
  }
  return kp;
}

/** The site card key of every test site (card-ref.ts): fixed, so references in failures reproduce. */
export const TEST_CARD_KEY = '6b'.repeat(32);

/**
 * The card reference of the test card labelled `uid` (what entries and events carry): a label
 * in hex is the uid's bytes; any other label stands for the bytes of its UTF-8 text.
 */
export function testCard(uid: string): string {
  return cardRef(TEST_CARD_KEY, normaliseCardUid(/^(?:[0-9a-fA-F]{2})+$/.test(uid) ? uid : toHex(utf8(uid)), 'hex'));
}

/** One author with its own feed and its own replica of the site. */
export class Writer {
  readonly state: PolicyState;
  readonly feed: AnyEntry[] = [];
  private readonly seen = new Map<string, AnyEntry>();
  private readonly hashes: string[] = [];
  private readonly clock: HybridClock;

  constructor(readonly key: KeyPair, readonly site: string, now: () => number, readonly crypto: CryptoProvider = defaultCrypto) {
    this.state = new PolicyState(site, crypto);
    this.clock = new HybridClock(now, Number.MAX_SAFE_INTEGER);
  }

  get id(): string {
    return this.key.publicKey;
  }

  /** Appends to this writer's feed with `deps` = its own heads of the key (or `deps` given). */
  write<T extends EntryType>(type: T, body: BodyOf<T>, deps?: string[]): AnyEntry {
    const probe = { type, body } as AnyEntry;
    const key = policyKeyOf(probe);
    const { entry, hash } = signEntry(this.key, {
      site: this.site,
      seq: this.feed.length + 1,
      prev: this.hashes.at(-1) ?? null,
      hlc: this.clock.now(),
      type,
      deps: deps ?? (key ? this.state.headHashes(key) : []),
      body,
    }, this.crypto);
    this.feed.push(entry as AnyEntry);
    this.hashes.push(hash);
    this.state.add(entry as AnyEntry, hash);
    this.seen.set(hash, entry as AnyEntry);
    return entry as AnyEntry;
  }

  /** Records an entry this writer signed elsewhere (the genesis) as the next in its own feed. */
  adoptOwn(entry: AnyEntry, hash: string): void {
    if (entry.author !== this.id || entry.seq !== this.feed.length + 1) throw new Error('not the next entry of this feed');
    this.feed.push(entry);
    this.hashes.push(hash);
    this.state.add(entry, hash);
    this.seen.set(hash, entry);
  }

  receive(entries: Iterable<AnyEntry>): void {
    for (const e of entries) {
      this.clock.receive(e.hlc);
      const hash = entryHash(e, this.crypto);
      this.state.add(e, hash);
      this.seen.set(hash, e);
    }
  }

  /** Every entry this writer holds (its own and received). */
  known(): AnyEntry[] {
    return [...this.seen.values()];
  }
}

export interface TestSiteOptions {
  name?: string;
  admins?: number;
  quorum?: number;
  now?: () => number;
  crypto?: CryptoProvider;
}

/** A site founded by admin key 1 (with admin keys 1..admins), genesis already written. */
export class TestSite {
  readonly site: string;
  readonly genesis: AnyEntry;
  readonly admins: Writer[];
  readonly now: () => number;
  readonly crypto: CryptoProvider;

  constructor(opts: TestSiteOptions = {}) {
    this.now = opts.now ?? (() => 1_700_000_000_000);
    this.crypto = opts.crypto ?? defaultCrypto;
    const keys = Array.from({ length: opts.admins ?? 1 }, (_, i) => testKey(i + 1, this.crypto));
    const { entry, hash } = signEntry(keys[0]!, {
      site: '',
      seq: 1,
      prev: null,
      hlc: { wall: this.now(), logical: 0 },
      type: 'site.genesis',
      deps: [],
      body: { name: opts.name ?? 'Test Space', admins: keys.map((k) => k.publicKey), quorum: opts.quorum ?? 1 },
    }, this.crypto);
    this.site = hash;
    this.genesis = entry as AnyEntry;
    this.admins = keys.map((k, i) => {
      const w = this.writer(k);
      if (i === 0) w.adoptOwn(this.genesis, hash); // the founder's feed starts with the genesis
      return w;
    });
  }

  writer(key: KeyPair): Writer {
    const w = new Writer(key, this.site, this.now, this.crypto);
    w.state.add(this.genesis);
    return w;
  }
}

/** Plain member record for tests. */
export function memberBody(member: string, over: Partial<BodyOf<'member.put'>> = {}): BodyOf<'member.put'> {
  return { member, name: member, contact: '', status: 'active', validUntil: null, keys: [], trainerFor: [], ...over };
}

export function resourceBody(resource: string, over: Partial<BodyOf<'resource.put'>> = {}): BodyOf<'resource.put'> {
  return {
    resource, name: resource, kind: 'machine', requiredCerts: [], schedule: null, unlockSeconds: 5,
    idleTimeoutSeconds: null, maxStaleHours: null, risk: 'normal', ...over,
  };
}

/** Shuffles a copy deterministically from `seed` (mulberry32). */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** One step of a random history: [writer, action, a, b] (all natural numbers, taken modulo). */
export type HistoryStep = [number, number, number, number];

export interface History {
  site: TestSite;
  /** A, B (admins), T (trainer), N (node), X (no authority). */
  writers: { A: Writer; B: Writer; T: Writer; N: Writer; X: Writer };
  all: Writer[];
  /** Every entry of every feed, each once, and the second entries of any forks. */
  entries(): AnyEntry[];
}

const MEMBERS = ['m0', 'm1', 'm2', 'm3'];
const CARDS = ['c0', 'c1', 'c2'].map(testCard);

/**
 * Plays out a random history of a small space: two admins, a trainer, a door/laser node and an
 * outsider, each writing on its own replica and syncing with others now and then, so concurrent
 * edits, conflicts, withdrawn trust, entries without authority, lockouts, admin-set races, forks
 * and entries of types a newer release writes all occur.
 */
export function playHistory(steps: readonly HistoryStep[], crypto: CryptoProvider = defaultCrypto): History {
  const site = new TestSite({ admins: 2, crypto });
  const [A, B] = site.admins as [Writer, Writer];
  const T = site.writer(testKey(20, crypto));
  const N = site.writer(testKey(30, crypto));
  const X = site.writer(testKey(40, crypto));
  const all = [A, B, T, N, X];

  A.write('member.put', memberBody('trainer1', { keys: [{ key: T.id, until: null }], trainerFor: [{ cert: 'laser', until: null }] }));
  A.write('resource.put', resourceBody('laser', { requiredCerts: ['laser'], risk: 'high', maxStaleHours: 24 }));
  A.write('resource.put', resourceBody('door', { kind: 'door' }));
  A.write('node.enrol', { node: N.id, name: 'panel', role: 'edge', resources: ['laser', 'door'] });
  for (const m of MEMBERS) A.write('member.put', memberBody(m));
  CARDS.forEach((c, i) => A.write('card.bind', { card: c, member: MEMBERS[i]! }));
  for (const w of all) if (w !== A) w.receive(A.feed);
  const forks: AnyEntry[] = [];

  for (const [wi, kind, a, b] of steps) {
    const w = all[wi % all.length]!;
    const member = MEMBERS[a % MEMBERS.length]!;
    const card = CARDS[a % CARDS.length]!;
    const cert = b % 2 ? 'laser' : 'cnc';
    const viaTrainer = w === T || w === N ? 'trainer1' : null;
    switch (kind % 16) {
      case 0:
        w.write('member.put', memberBody(member, { status: b % 3 === 0 ? 'suspended' : 'active', validUntil: b % 2 ? null : 1_700_000_000_000 + a * 1000 }));
        break;
      case 1:
        w.write('card.bind', { card, member: MEMBERS[b % MEMBERS.length]! });
        break;
      case 2:
        w.write('card.unbind', { card, reason: 'lost' });
        break;
      case 3:
        w.write('cert.grant', { member, cert, grantedBy: viaTrainer, note: '' });
        break;
      case 4:
        w.write('cert.revoke', { member, cert, revokedBy: viaTrainer, reason: 'test' });
        break;
      case 5:
        w.write('resource.put', resourceBody('laser', { requiredCerts: b % 2 ? ['laser'] : ['laser', 'cnc'], risk: b % 3 ? 'high' : 'normal', maxStaleHours: 1 + (a % 48), unlockSeconds: 1 + (b % 9) }));
        break;
      case 6:
        w.write('access.decision', { resource: a % 2 ? 'laser' : 'door', credential: { kind: 'card', card: CARDS[b % CARDS.length]! }, allow: b % 2 === 0, reason: 'ALLOWED', member: null, at: 1_700_000_000_000 + a });
        break;
      case 7:
        w.write('member.put', memberBody('trainer1', { keys: [{ key: T.id, until: null }], trainerFor: [{ cert: 'laser', until: b % 2 ? null : { [T.id]: 1 + (a % 5) } }] }));
        break;
      case 8:
        w.write('admins.change', { admins: [{ key: A.id, until: null }, { key: B.id, until: b % 2 ? null : 1 + (a % 6) }], quorum: 1, approvals: [] });
        break;
      case 9:
        if (b % 2) w.write('node.retire', { node: N.id, lastSeq: a % 8, reason: 'test' });
        else w.write('node.enrol', { node: N.id, name: 'panel', role: 'edge', resources: a % 2 ? ['laser', 'door'] : ['door'] });
        break;
      case 11:
        // Lockouts: an admin's (any state), or a member at the node's machine (now, or a lift it may not make).
        w.write('resource.lockout', { resource: 'laser', state: (['now', 'when_idle', 'lifted'] as const)[b % 3]!, by: w === N ? member : null, reason: '' });
        break;
      case 12:
        // A trainer grant naming the trainer record it relies on (deps across keys).
        w.write('cert.grant', { member, cert, grantedBy: 'trainer1', note: '' }, [...w.state.headHashes(`cert/${member}/${cert}`), ...w.state.headHashes('member/trainer1')]);
        break;
      case 13:
        // Admin-set changes: raise or lower the quorum, or one admin stripping the other.
        if (b % 3 === 0) w.write('admins.change', { admins: [{ key: w.id, until: null }], quorum: 1, approvals: [] });
        else w.write('admins.change', { admins: [{ key: A.id, until: null }, { key: B.id, until: null }], quorum: 1 + (b % 2), approvals: [] });
        break;
      case 14:
        // An entry of a type a newer release writes.
        w.write('door.future_thing' as EntryType, { resource: 'door', n: a } as never);
        break;
      case 15: {
        // Equivocation: the writer signs a second entry at its last seq.
        const last = w.feed.at(-1);
        if (last) forks.push(signEntry(w.key, { site: last.site, seq: last.seq, prev: last.prev, hlc: last.hlc, type: 'member.put', deps: [], body: memberBody(member, { name: `twin ${b}` }) }, crypto).entry as AnyEntry);
        break;
      }
      default:
        w.receive(all[a % all.length]!.known());
    }
  }
  return {
    site,
    writers: { A, B, T, N, X },
    all,
    entries() {
      const seen = new Map<string, AnyEntry>();
      for (const w of all) for (const e of w.feed) seen.set(`${e.author}:${e.seq}`, e);
      return [...seen.values(), ...forks];
    },
  };
}
