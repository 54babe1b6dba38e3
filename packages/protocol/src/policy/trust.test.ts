// Issue 10's findings against the reducer (4, 5, 8, 10, 11), lockouts and canCertifyAt. Each
// finding's test failed on the starting commit (adc6a69).
import { describe, it, expect } from '@jest/globals';
import { PolicyState } from './state.js';
import { canCertifyAt } from './trainers.js';
import { approveAdminsChange } from './admins.js';
import { decide } from '../decide.js';
import { entryHash, signEntry } from '../entry.js';
import { createSite } from '../site.js';
import { playHistory, shuffled, memberBody, resourceBody, TestSite, testCard, testKey, Writer } from '@keymesh/testkit/site';
import type { AnyEntry } from '../schemas/entry.js';

const card = (uid: string) => ({ kind: 'card' as const, card: testCard(uid) });
const NOW = 1_700_000_000_000;

/** The same entries in several orders give one state; returns it. */
function settled(site: string, entries: AnyEntry[]): PolicyState {
  const ref = PolicyState.from(site, entries);
  for (const seed of [1, 2, 3]) expect(PolicyState.from(site, shuffled(entries, seed)).digest()).toBe(ref.digest());
  return ref;
}

const all = (...ws: Writer[]) => ws.flatMap((w) => w.feed);

describe('finding 4: a backdated admins.change bypasses neither quorum nor removal', () => {
  it('after A raises the quorum to 3, B alone naming the genesis does not take the site; removing B restores the raise', () => {
    const site = new TestSite({ admins: 3, quorum: 1 });
    const [A, B, C] = site.admins as [Writer, Writer, Writer];
    const keep = [A, B, C].map((w) => ({ key: w.id, until: null }));
    const raise = A.write('admins.change', { admins: keep, quorum: 3, approvals: [] });
    const strip = B.write('admins.change', { admins: [{ key: B.id, until: null }], quorum: 1, approvals: [] }, [site.site]);
    const s = settled(site.site, all(A, B, C));
    // Neither would be approved under the other: both lose, the set stays as it was (B vetoes, never takes).
    expect(Object.keys(s.admins()!.value.admins).sort()).toEqual([A.id, B.id, C.id].sort());
    expect(s.admins()!.heads).toEqual([site.site]);
    expect([...s.defeatedAdminChanges().keys()].sort()).toEqual([entryHash(raise), entryHash(strip)].sort());
    // B alone still cannot change the admin set, building on its own change.
    B.write('admins.change', { admins: [{ key: B.id, until: null }], quorum: 1, approvals: [] }, [entryHash(strip)]);
    expect(Object.keys(settled(site.site, all(A, B, C)).admins()!.value.admins)).toHaveLength(3);
    // A and C remove B at its last seq before its changes ("removed by the others", 2 of 3): the raise stands again.
    const body = { admins: [{ key: A.id, until: null }, { key: C.id, until: null }, { key: B.id, until: 0 }], quorum: 2 };
    const proposal = { site: site.site, deps: [entryHash(raise)], ...body };
    A.write('admins.change', { ...body, approvals: [approveAdminsChange(C.key, proposal)] }, [entryHash(raise)]);
    const after = settled(site.site, all(A, B, C));
    expect(after.admins()!.value).toMatchObject({ admins: { [A.id]: null, [C.id]: null, [B.id]: 0 }, quorum: 2 });
    expect(after.defeatedAdminChanges().has(entryHash(raise))).toBe(false);
  });

  it('a removed admin signing past its until, naming the genesis, strips nobody', () => {
    const site = new TestSite({ admins: 3, quorum: 1 });
    const [A, B, C] = site.admins as [Writer, Writer, Writer];
    C.write('member.put', memberBody('before-removal'));
    A.receive(C.feed);
    A.write('admins.change', { admins: [{ key: A.id, until: null }, { key: B.id, until: null }, { key: C.id, until: C.feed.length }], quorum: 1, approvals: [] });
    C.write('admins.change', { admins: [{ key: C.id, until: null }], quorum: 1, approvals: [] }, [site.site]);
    C.write('member.put', memberBody('after-removal'));
    A.write('member.put', memberBody('still-works'));
    const s = settled(site.site, all(A, B, C));
    expect(s.admins()!.value.admins).toEqual({ [A.id]: null, [B.id]: null, [C.id]: 1 });
    expect(s.member('before-removal')).toBeDefined(); // its past keeps counting
    expect(s.member('after-removal')).toBeUndefined();
    expect(s.member('still-works')).toBeDefined();
  });

  it('two concurrent changes that each admit the other both count (intersection, the safe merge)', () => {
    const site = new TestSite({ admins: 2, quorum: 1 });
    const [A, B] = site.admins as [Writer, Writer];
    const d = testKey(60).publicKey;
    const e = testKey(61).publicKey;
    A.write('admins.change', { admins: [{ key: A.id, until: null }, { key: B.id, until: null }, { key: d, until: null }], quorum: 1, approvals: [] });
    B.write('admins.change', { admins: [{ key: A.id, until: null }, { key: B.id, until: null }, { key: e, until: null }], quorum: 1, approvals: [] });
    const s = settled(site.site, all(A, B));
    expect(Object.keys(s.admins()!.value.admins).sort()).toEqual([A.id, B.id].sort());
    expect(s.conflicts().map((c) => c.key)).toEqual(['admins']);
  });
});

describe('finding 8: no recursion an author controls', () => {
  it('6,000 chained admins.change by throwaway keys, newest first: no stack overflow, nothing changes', () => {
    const site = new TestSite();
    const base = PolicyState.from(site.site, [site.genesis]);
    const chain: AnyEntry[] = [];
    let dep = site.site;
    for (let i = 0; i < 6000; i++) {
      const k = testKey(5000 + i);
      const { entry, hash } = signEntry(k, { site: site.site, seq: 1, prev: null, hlc: { wall: NOW, logical: i }, type: 'admins.change', deps: [dep], body: { admins: [{ key: k.publicKey, until: null }], quorum: 1, approvals: [] } });
      chain.push(entry as AnyEntry);
      dep = hash;
    }
    const s = new PolicyState(site.site);
    s.add(site.genesis);
    for (const e of [...chain].reverse()) s.add(e);
    expect(s.admins()!.heads).toEqual([site.site]);
    expect(s.digest()).toBe(base.digest());
  });
});

describe('finding 5: trainer authority at the signing key\'s position', () => {
  function trainerSite() {
    const h = playHistory([]);
    const { A, T, N } = h.writers;
    const T2 = h.site.writer(testKey(21));
    T2.receive(h.entries());
    A.write('member.put', memberBody('trainer1', { keys: [{ key: T.id, until: null }, { key: T2.id, until: null }], trainerFor: [{ cert: 'laser', until: null }] }));
    for (const w of [T, T2, N]) w.receive(A.feed);
    return { h, A, T, T2, N };
  }

  it('withdrawing a scope binds each of the trainer\'s keys at its own position', () => {
    const { h, A, T, T2 } = trainerSite();
    // Each key counts its own seqs: T is further along than T2, so no single seq bounds both.
    for (const note of ['earlier', 'again']) T.write('cert.grant', { member: 'm0', cert: 'laser', grantedBy: 'trainer1', note });
    T2.write('cert.grant', { member: 'm1', cert: 'laser', grantedBy: 'trainer1', note: 'before' });
    A.receive(T2.feed);
    A.write('member.put', memberBody('trainer1', { keys: [{ key: T.id, until: null }, { key: T2.id, until: null }], trainerFor: [{ cert: 'laser', until: { [T.id]: T.feed.length, [T2.id]: T2.feed.length } }] }));
    T2.receive(A.feed);
    T2.write('cert.grant', { member: 'm2', cert: 'laser', grantedBy: 'trainer1', note: 'after' });
    expect(T2.feed.at(-1)!.seq).toBeLessThanOrEqual(T.feed.length); // within T's position, past T2's
    // Backdated: naming the old record in deps does not escape the withdrawal.
    const old = A.feed.find((e) => e.type === 'member.put' && e.body.member === 'trainer1' && e.body.trainerFor.some((t) => t.until === null) && e.body.keys.length === 2)!;
    T2.write('cert.grant', { member: 'm3', cert: 'laser', grantedBy: 'trainer1', note: 'backdated' }, [...T2.state.headHashes('cert/m3/laser'), entryHash(old)]);
    const s = settled(h.site.site, [...h.entries(), ...T2.feed]);
    expect(s.certified('m0', 'laser')).toBe(true);
    expect(s.certified('m1', 'laser')).toBe(true);
    expect(s.certified('m2', 'laser')).toBe(false);
    expect(s.certified('m3', 'laser')).toBe(false);
  });

  it('a suspended trainer cannot certify with its own key; what it certified before stays', () => {
    const { h, A, T } = trainerSite();
    T.write('cert.grant', { member: 'm1', cert: 'laser', grantedBy: 'trainer1', note: 'before' });
    A.receive(T.feed);
    A.write('member.put', memberBody('trainer1', { status: 'suspended', keys: [{ key: T.id, until: T.feed.length }], trainerFor: [{ cert: 'laser', until: null }] }));
    T.receive(A.feed);
    T.write('cert.grant', { member: 'm2', cert: 'laser', grantedBy: 'trainer1', note: 'while suspended' });
    const s = settled(h.site.site, [...h.entries(), ...T.feed]);
    expect(s.certified('m1', 'laser')).toBe(true);
    expect(s.certified('m2', 'laser')).toBe(false);
    // A suspension that names no position stops the key altogether (the safe reading).
    A.write('member.put', memberBody('trainer1', { status: 'suspended', keys: [{ key: T.id, until: null }], trainerFor: [{ cert: 'laser', until: null }] }));
    expect(PolicyState.from(h.site.site, [...h.entries(), ...T.feed]).certified('m2', 'laser')).toBe(false);
  });

  it('a panel certification naming the trainer record survives the trainer\'s later suspension', () => {
    const { h, A, N } = trainerSite();
    const ok = canCertifyAt(N.state, 'trainer1', 'm3', 'laser');
    expect(ok).toMatchObject({ ok: true, certs: ['laser'] });
    if (!ok.ok) throw new Error('unreachable');
    N.write('cert.grant', { member: 'm3', cert: 'laser', grantedBy: 'trainer1', note: 'panel' }, [...N.state.headHashes('cert/m3/laser'), ...ok.deps].sort());
    A.receive(N.feed);
    A.write('member.put', memberBody('trainer1', { status: 'suspended', keys: [], trainerFor: [] }));
    N.receive(A.feed);
    const s = settled(h.site.site, [...h.entries(), ...N.feed]);
    expect(s.certified('m3', 'laser')).toBe(true);
    // Now the trainer is suspended: the panel refuses, and an entry it wrote anyway does not count.
    expect(canCertifyAt(N.state, 'trainer1', 'm2', 'laser')).toMatchObject({ ok: false, reason: 'TRAINER_INACTIVE' });
    N.write('cert.grant', { member: 'm2', cert: 'laser', grantedBy: 'trainer1', note: 'panel, suspended trainer' });
    expect(PolicyState.from(h.site.site, [...h.entries(), ...N.feed]).certified('m2', 'laser')).toBe(false);
  });

  it('canCertifyAt says why not', () => {
    const { N } = trainerSite();
    expect(canCertifyAt(N.state, 'm0', 'm3', 'laser')).toMatchObject({ ok: false, reason: 'NOT_A_TRAINER' });
    expect(canCertifyAt(N.state, 'trainer1', 'm3', 'door')).toMatchObject({ ok: false, reason: 'NOTHING_TO_CERTIFY' });
    expect(canCertifyAt(N.state, 'trainer1', 'nobody', 'laser')).toMatchObject({ ok: false, reason: 'UNKNOWN_TRAINEE' });
    expect(canCertifyAt(N.state, 'trainer1', 'm3', 'nowhere')).toMatchObject({ ok: false, reason: 'UNKNOWN_RESOURCE' });
  });
});

describe('finding 10 and recovery: a forked admin key is removed by the recovery key', () => {
  it('fork the daily key, remove it with the recovery key, then a newly added member opens the door', () => {
    const made = createSite({ name: 'Hackspace', now: NOW });
    const daily = new Writer(made.daily, made.site, () => NOW);
    daily.adoptOwn(made.genesis.entry as AnyEntry, made.genesis.hash);
    const recovery = new Writer(made.recovery, made.site, () => NOW);
    recovery.receive([made.genesis.entry as AnyEntry]);
    daily.write('resource.put', resourceBody('door', { kind: 'door' }));
    // The daily key signs seq 3 twice (one key in two browsers).
    const a = daily.write('member.put', memberBody('ann'));
    const b = signEntry(made.daily, { site: made.site, seq: a.seq, prev: a.prev, hlc: a.hlc, type: 'member.put', deps: [], body: memberBody('bob') }).entry as AnyEntry;
    const forked = PolicyState.from(made.site, [...daily.feed, b]);
    expect(forked.forks()).toHaveLength(1);
    expect(forked.member('ann')).toBeUndefined();
    // The recovery key removes the daily key at its last good seq and adds a new daily key.
    const fresh = testKey(88);
    recovery.receive([...daily.feed, b]);
    recovery.write('admins.change', { admins: [{ key: made.daily.publicKey, until: a.seq - 1 }, { key: made.recovery.publicKey, until: null }, { key: fresh.publicKey, until: null }], quorum: 1, approvals: [] });
    const admin2 = new Writer(fresh, made.site, () => NOW);
    admin2.receive([...daily.feed, b, ...recovery.feed]);
    admin2.write('member.put', memberBody('newbie'));
    admin2.write('card.bind', { card: testCard('c9'), member: 'newbie' });
    admin2.write('node.enrol', { node: testKey(31).publicKey, name: 'reader', role: 'edge', resources: ['door'] });
    const s = settled(made.site, [...daily.feed, b, ...recovery.feed, ...admin2.feed]);
    expect(forked.forks()[0]!.resolved).toBe(false);
    expect(s.forks()).toEqual([expect.objectContaining({ author: made.daily.publicKey, resolved: true })]);
    expect(decide(s, card('c9'), 'door', NOW, { node: testKey(31).publicKey })).toMatchObject({ allow: true, member: 'newbie' });
    expect(s.resource('door')).toBeDefined(); // the daily key's work before the fork stands
  });
});

describe('finding 11: retiring a node keeps what it recorded', () => {
  it('a node retired at its head keeps its panel certification and its decisions', () => {
    const h = playHistory([]);
    const { A, N } = h.writers;
    N.write('cert.grant', { member: 'm3', cert: 'laser', grantedBy: 'trainer1', note: 'panel' });
    for (let i = 0; i < 3; i++) N.write('access.decision', { resource: 'door', credential: card('c0'), allow: true, reason: 'ALLOWED', member: 'm0', at: NOW + i });
    const before = PolicyState.from(h.site.site, h.entries());
    expect(before.events()).toHaveLength(3);
    A.receive(N.feed);
    A.write('node.retire', { node: N.id, lastSeq: N.feed.length, reason: 'replaced' });
    N.write('access.decision', { resource: 'door', credential: card('c0'), allow: true, reason: 'ALLOWED', member: 'm0', at: NOW + 9 });
    const s = settled(h.site.site, h.entries());
    expect(s.events()).toHaveLength(3); // the one after lastSeq does not count
    expect(s.certified('m3', 'laser')).toBe(true);
  });

  it('a forked node retired at its last good seq, and its new key enrolled, keep the history', () => {
    const h = playHistory([]);
    const { A, N } = h.writers;
    for (let i = 0; i < 2; i++) N.write('access.decision', { resource: 'door', credential: card('c0'), allow: true, reason: 'ALLOWED', member: 'm0', at: NOW + i });
    const c = N.write('access.decision', { resource: 'door', credential: card('c0'), allow: true, reason: 'ALLOWED', member: 'm0', at: NOW + 5 });
    const twin = signEntry(N.key, { site: c.site, seq: c.seq, prev: c.prev, hlc: c.hlc, type: 'access.decision', deps: [], body: { ...(c.body as object), at: NOW + 6 } as never }).entry as AnyEntry;
    const N2 = h.site.writer(testKey(31));
    A.receive(N.feed);
    A.write('node.retire', { node: N.id, lastSeq: c.seq - 1, reason: 'forked' });
    A.write('node.enrol', { node: N2.id, name: 'panel (new key)', role: 'edge', resources: ['laser', 'door'] });
    const s = settled(h.site.site, [...h.entries(), twin]);
    expect(s.forks()).toHaveLength(1);
    expect(s.events()).toHaveLength(2);
    expect(s.node(N.id)).toMatchObject({ retired: true, lastSeq: c.seq - 1, everResources: ['door', 'laser'] });
  });
});

describe('lockout', () => {
  function machine() {
    const h = playHistory([]);
    const { A, N } = h.writers;
    A.write('cert.grant', { member: 'm1', cert: 'laser', grantedBy: null, note: '' });
    N.receive(A.feed);
    return { h, A, N };
  }

  it('now denies everyone, when_idle denies new sessions, lifted opens again; the strictest of concurrent values wins', () => {
    const { h, A } = machine();
    const s0 = PolicyState.from(h.site.site, h.entries());
    expect(decide(s0, card('c1'), 'laser', NOW, { node: h.writers.N.id, rulesSyncedAt: NOW })).toMatchObject({ allow: true });
    A.write('resource.lockout', { resource: 'laser', state: 'when_idle', by: null, reason: 'maintenance' });
    expect(decide(PolicyState.from(h.site.site, h.entries()), card('c1'), 'laser', NOW, { node: h.writers.N.id, rulesSyncedAt: NOW })).toMatchObject({ allow: false, reason: 'LOCKOUT_PENDING' });
    const B = h.writers.B;
    B.receive(A.feed);
    B.write('resource.lockout', { resource: 'laser', state: 'lifted', by: null, reason: 'done' });
    A.write('resource.lockout', { resource: 'laser', state: 'now', by: null, reason: 'smoke' });
    const s = settled(h.site.site, h.entries());
    expect(s.lockout('laser')?.state).toBe('now');
    expect(decide(s, card('c1'), 'laser', NOW, { node: h.writers.N.id, rulesSyncedAt: NOW })).toMatchObject({ allow: false, reason: 'LOCKED_OUT' });
    A.receive(B.feed);
    A.write('resource.lockout', { resource: 'laser', state: 'lifted', by: null, reason: 'all clear' });
    expect(decide(settled(h.site.site, h.entries()), card('c1'), 'laser', NOW, { node: h.writers.N.id, rulesSyncedAt: NOW })).toMatchObject({ allow: true });
  });

  it('a certified member may press the emergency button at the machine, never lift it; others may not', () => {
    const { h, N } = machine();
    N.write('resource.lockout', { resource: 'laser', state: 'now', by: 'm2', reason: 'not certified' });
    expect(PolicyState.from(h.site.site, h.entries()).lockout('laser')).toBeUndefined();
    N.write('resource.lockout', { resource: 'laser', state: 'now', by: 'm1', reason: 'emergency stop' });
    const s = PolicyState.from(h.site.site, h.entries());
    expect(s.lockout('laser')).toMatchObject({ state: 'now', by: 'm1' });
    N.write('resource.lockout', { resource: 'laser', state: 'lifted', by: 'm1', reason: 'member lifts' });
    expect(settled(h.site.site, h.entries()).lockout('laser')?.state).toBe('now');
  });
});
