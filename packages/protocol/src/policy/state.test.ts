import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { PolicyState, type EventRef } from './state.js';
import { policyKeyOf } from './keys.js';
import { decide } from '../decide.js';
import { playHistory, shuffled, memberBody, resourceBody, type HistoryStep, type History } from '@keymesh/testkit/site';
import { isKnownEntry, type AnyEntry } from '../schemas/entry.js';
import { entryHash, signEntry } from '../entry.js';
import { TestSite, testCard, testKey } from '@keymesh/testkit/site';

/** A reader enrolled where a test decides a tap. */
const READER = testKey(31).publicKey;
import { approveAdminsChange } from './admins.js';

// 200 histories a property by default (1000 and 500 cost ~45 s): a history is up to 24 steps
// drawn over every writer kind (grants, revokes, binds, admin-set changes, forks), so 200 runs
// still draw each attack above ~20 times and every kind of step hundreds of times.
// A deeper run: KEYMESH_PROPERTY_RUNS=1000 npm test.
const RUNS = Number(process.env.KEYMESH_PROPERTY_RUNS) || 200;
const step = fc.tuple(fc.nat(4), fc.nat(15), fc.nat(50), fc.nat(50)) as fc.Arbitrary<HistoryStep>;
const history = fc.array(step, { maxLength: 24 });
/** Histories in which both admins stay admins (no admin-set races, no forks): for properties that need both to act. */
const calmHistory = fc.array(step.filter(([, kind]) => kind % 16 !== 13 && kind % 16 !== 15), { maxLength: 24 });

/** Brings every writer up to date and makes A re-trust B, so both can act as admins. */
function syncAndRestoreAdmins(h: History): void {
  const { A, B } = h.writers;
  A.receive(h.entries());
  A.write('admins.change', { admins: [{ key: A.id, until: null }, { key: B.id, until: null }], quorum: 1, approvals: [] });
  for (const w of h.all) w.receive(h.entries());
}

describe('policy reducer properties', () => {
  it('any delivery order of the same entries, with duplicates, gives the same state', () => {
    fc.assert(
      fc.property(history, fc.nat(), fc.array(fc.nat(), { maxLength: 20 }), (steps, seed, dupIdx) => {
        const h = playHistory(steps);
        const entries = h.entries();
        const reference = PolicyState.from(h.site.site, entries);
        const dups = dupIdx.map((i) => entries[i % entries.length]!);
        // Built one entry at a time, reading the state now and then, so cached values must be
        // dropped correctly as entries arrive (incremental = from scratch).
        const other = new PolicyState(h.site.site);
        shuffled([...entries, ...dups], seed).forEach((e, i) => {
          other.add(e);
          if ((i + seed) % 7 === 0) other.digest();
        });
        expect(other.snapshot()).toEqual(reference.snapshot());
        expect(other.digest()).toBe(reference.digest());
      }),
      { numRuns: RUNS },
    );
  });

  it('an entry signed by a key without authority never changes policy', () => {
    const attacks: Array<(h: History) => void> = [
      ({ writers: { X } }) => void X.write('member.put', memberBody('m1', { status: 'active', validUntil: null })),
      ({ writers: { X } }) => void X.write('card.bind', { card: testCard('c0'), member: 'm3' }),
      ({ writers: { X } }) => void X.write('card.unbind', { card: testCard('c1'), reason: 'x' }),
      ({ writers: { X } }) => void X.write('cert.grant', { member: 'm2', cert: 'laser', grantedBy: 'trainer1', note: '' }),
      ({ writers: { X } }) => void X.write('cert.revoke', { member: 'm2', cert: 'laser', revokedBy: null, reason: '' }),
      ({ writers: { X } }) => void X.write('resource.put', resourceBody('laser')),
      ({ writers: { X } }) => void X.write('node.enrol', { node: X.id, name: 'rogue', role: 'edge', resources: ['door'] }),
      ({ writers: { X, A } }) => void X.write('admins.change', { admins: [{ key: X.id, until: null }, { key: A.id, until: 0 }], quorum: 1, approvals: [] }),
      ({ writers: { X } }) => void X.write('access.decision', { resource: 'door', credential: { kind: 'card', card: testCard('c0') }, allow: true, reason: 'ALLOWED', member: 'm0', at: 1 }),
      // The trainer outside its scope: it may certify laser, not cnc.
      ({ writers: { T } }) => void T.write('cert.grant', { member: 'm2', cert: 'cnc', grantedBy: 'trainer1', note: '' }),
    ];
    fc.assert(
      fc.property(history, fc.nat(attacks.length - 1), (steps, which) => {
        const h = playHistory(steps);
        const { X, T } = h.writers;
        const before = PolicyState.from(h.site.site, h.entries());
        // The attacker has seen everything, so its deps name every head it could try to hide.
        X.receive(h.entries());
        T.receive(h.entries());
        attacks[which]!(h);
        const after = PolicyState.from(h.site.site, h.entries());
        expect(after.size).toBe(before.size + 1);
        expect(after.digest()).toBe(before.digest());
      }),
      { numRuns: RUNS },
    );
  });

  it('a grant concurrent with a revoke ends revoked', () => {
    fc.assert(
      fc.property(calmHistory, fc.constantFrom('m0', 'm1', 'm2', 'm3'), fc.boolean(), fc.nat(), (steps, member, granterIsA, seed) => {
        const h = playHistory(steps);
        syncAndRestoreAdmins(h);
        const { A, B } = h.writers;
        const [granter, revoker] = granterIsA ? [A, B] : [B, A];
        granter.write('cert.grant', { member, cert: 'laser', grantedBy: null, note: '' });
        revoker.write('cert.revoke', { member, cert: 'laser', revokedBy: null, reason: 'unsafe' });
        const s = PolicyState.from(h.site.site, shuffled(h.entries(), seed));
        expect(s.cert(member, 'laser')).toMatchObject({ granted: false });
        expect(s.certified(member, 'laser')).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('a card bound concurrently to two members opens nothing and shows as a conflict; naming all heads resolves it', () => {
    fc.assert(
      fc.property(calmHistory, fc.nat(), (steps, seed) => {
        const h = playHistory(steps);
        syncAndRestoreAdmins(h);
        const { A, B } = h.writers;
        A.write('member.put', memberBody('p1'));
        A.write('member.put', memberBody('p2'));
        B.receive(A.feed);
        A.write('card.bind', { card: testCard('cz'), member: 'p1' });
        B.write('card.bind', { card: testCard('cz'), member: 'p2' });
        A.write('node.enrol', { node: READER, name: 'reader', role: 'edge', resources: ['door'] });
        const merged = PolicyState.from(h.site.site, shuffled(h.entries(), seed));
        const d = decide(merged, { kind: 'card', card: testCard('cz') }, 'door', 1_700_000_000_000, { node: READER });
        expect(d).toMatchObject({ allow: false, reason: 'CARD_CONFLICT', member: null });
        expect(merged.card(testCard('cz'))).toEqual({ card: testCard('cz'), state: 'conflict', members: ['p1', 'p2'] });
        expect(merged.conflicts().map((c) => c.key)).toContain(`card/${testCard('cz')}`);

        // An admin who has seen both heads rebinds the card: its deps name both.
        A.receive(B.feed);
        const fix = A.write('card.bind', { card: testCard('cz'), member: 'p1' });
        expect(fix.deps).toHaveLength(2);
        const resolved = PolicyState.from(h.site.site, shuffled(h.entries(), seed + 1));
        expect(resolved.conflicts().map((c) => c.key)).not.toContain(`card/${testCard('cz')}`);
        expect(resolved.card(testCard('cz'))).toEqual({ card: testCard('cz'), state: 'bound', member: 'p1' });
        expect(decide(resolved, { kind: 'card', card: testCard('cz') }, 'door', 1_700_000_000_000, { node: READER })).toMatchObject({ allow: true, member: 'p1' });
      }),
      { numRuns: RUNS },
    );
  });
});

describe('access events kept by a store', () => {
  it(`give the same digest and forks as events held in memory (${RUNS} random histories)`, () => {
    fc.assert(
      fc.property(history, (steps) => {
        const h = playHistory(steps);
        const entries = h.entries();
        const reference = PolicyState.from(h.site.site, entries);
        // The store: access events as references, and every (author, seq) with its hashes.
        const refs: EventRef[] = [];
        const bySeq = new Map<string, Set<string>>();
        const external = new PolicyState(h.site.site, undefined, { events: () => refs });
        for (const e of entries) {
          const hash = entryHash(e);
          const at = `${e.author}/${e.seq}`;
          bySeq.set(at, (bySeq.get(at) ?? new Set()).add(hash));
          if (policyKeyOf(e) || !isKnownEntry(e)) external.add(e, hash);
          else if (!refs.some((r) => r.hash === hash)) refs.push({ hash, author: e.author, seq: e.seq, resource: (e.body as { resource: string }).resource });
        }
        for (const [at, hashes] of bySeq) {
          const [author, seq] = at.split('/');
          if (hashes.size > 1) external.noteSeqs(author!, Number(seq), [...hashes]);
        }
        expect(external.digest()).toBe(reference.digest());
        expect(external.forks()).toEqual(reference.forks());
        expect(external.events()).toEqual(reference.events());
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses to hold an access event itself', () => {
    const site = new TestSite({ now: () => 1 });
    const s = new PolicyState(site.site, undefined, { events: () => [] });
    const e = signEntry(testKey(30), { site: site.site, seq: 1, prev: null, hlc: { wall: 1, logical: 0 }, type: 'access.decision', deps: [], body: { resource: 'door', credential: { kind: 'card', card: testCard('c0') }, allow: true, reason: 'ALLOWED', member: 'm0', at: 1 } }).entry;
    expect(() => s.add(e)).toThrow(expect.objectContaining({ code: 'EVENTS_KEPT_BY_STORE' }));
  });
});

describe('fail-safe merges', () => {
  it('suspended beats active and the earliest expiry wins', () => {
    const h = playHistory([]);
    syncAndRestoreAdmins(h);
    const { A, B } = h.writers;
    A.write('member.put', memberBody('m1', { status: 'suspended', validUntil: 2_000 }));
    B.write('member.put', memberBody('m1', { status: 'active', validUntil: 1_000 }));
    const s = PolicyState.from(h.site.site, h.entries());
    expect(s.member('m1')).toMatchObject({ status: 'suspended', validUntil: 1_000 });
    expect(s.conflicts().map((c) => c.key)).toEqual(['member/m1']);
  });

  it('an unbind concurrent with a bind leaves the card unbound', () => {
    const h = playHistory([]);
    syncAndRestoreAdmins(h);
    const { A, B } = h.writers;
    A.write('card.unbind', { card: testCard('c0'), reason: 'lost' });
    B.write('card.bind', { card: testCard('c0'), member: 'm3' });
    expect(PolicyState.from(h.site.site, h.entries()).card(testCard('c0'))).toEqual({ card: testCard('c0'), state: 'unbound' });
  });
});

describe('authority', () => {
  it('a trainer certifies within scope, and withdrawing scope keeps what was granted before', () => {
    const h = playHistory([]);
    const { A, T } = h.writers;
    const g1 = T.write('cert.grant', { member: 'm1', cert: 'laser', grantedBy: 'trainer1', note: 'induction' });
    A.receive([g1]);
    expect(A.state.certified('m1', 'laser')).toBe(true);
    A.write('member.put', memberBody('trainer1', { keys: [{ key: T.id, until: null }], trainerFor: [{ cert: 'laser', until: { [T.id]: g1.seq } }] }));
    T.receive(A.feed);
    T.write('cert.grant', { member: 'm2', cert: 'laser', grantedBy: 'trainer1', note: 'after withdrawal' });
    const s = PolicyState.from(h.site.site, h.entries());
    expect(s.certified('m1', 'laser')).toBe(true);
    expect(s.certified('m2', 'laser')).toBe(false);
  });

  it('a machine panel records a certification for a trainer who tapped in', () => {
    const h = playHistory([]);
    const { N } = h.writers;
    N.write('cert.grant', { member: 'm3', cert: 'laser', grantedBy: 'trainer1', note: 'panel' });
    N.write('cert.grant', { member: 'm3', cert: 'cnc', grantedBy: 'trainer1', note: 'not a trainer for cnc' });
    const s = PolicyState.from(h.site.site, h.entries());
    expect(s.certified('m3', 'laser')).toBe(true);
    expect(s.certified('m3', 'cnc')).toBe(false);
  });

  it('changing the admin set needs the quorum of the set it replaces', () => {
    const site = new TestSite({ admins: 3, quorum: 2 });
    const [A, B] = site.admins;
    const newcomer = testKey(77);
    const proposal = (deps: string[]) => ({ site: site.site, deps, admins: [{ key: A!.id, until: null }, { key: newcomer.publicKey, until: null }], quorum: 1 });
    const deps = A!.state.headHashes('admins');
    const body = (p: ReturnType<typeof proposal>) => ({ admins: p.admins, quorum: p.quorum });
    const alone = A!.write('admins.change', { ...body(proposal(deps)), approvals: [] });
    expect(PolicyState.from(site.site, [site.genesis, alone]).admins()!.value.admins).not.toHaveProperty(newcomer.publicKey);
    const approved = A!.write('admins.change', { ...body(proposal(deps)), approvals: [approveAdminsChange(B!.key, proposal(deps))] }, deps);
    const s = PolicyState.from(site.site, [site.genesis, alone, approved]);
    expect(Object.keys(s.admins()!.value.admins).sort()).toEqual([A!.id, newcomer.publicKey].sort());
    // A forged approval (signed over another proposal) does not count.
    const forged = A!.write('admins.change', { ...body(proposal(deps)), quorum: 2, approvals: [approveAdminsChange(B!.key, proposal(deps))] }, deps);
    expect(PolicyState.from(site.site, [site.genesis, forged]).admins()!.value.quorum).toBe(2);
    expect(PolicyState.from(site.site, [site.genesis, forged]).admins()!.heads).toEqual([site.site]);
  });

  it('equivocation stops trust in that author from the fork on, and keeps both entries as proof', () => {
    const h = playHistory([]);
    const { A } = h.writers;
    const base = h.entries();
    const good = A.write('member.put', memberBody('m1', { status: 'suspended' }));
    // A validly signed second entry with the same seq (a restored backup re-signing, say).
    const twin = signEntry(A.key, { site: good.site, seq: good.seq, prev: good.prev, hlc: good.hlc, type: 'member.put', deps: good.deps, body: memberBody('m1', { name: 'evil' }) }).entry as AnyEntry;
    const s = PolicyState.from(h.site.site, [...base, good, twin]);
    expect(s.forks()).toEqual([{ author: A.id, seq: good.seq, hashes: expect.any(Array), resolved: false }]);
    expect(s.forks()[0]!.hashes).toHaveLength(2);
    expect(s.member('m1')).toMatchObject({ status: 'active', name: 'm1' }); // neither fork counts
  });
});
