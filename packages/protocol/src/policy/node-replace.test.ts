/**
 * A node's key replaced (DESIGN §10): `node.enrol` of the new key names the old one and the
 * last seq of its feed that counts; the old feed is retired there, its history kept. And the
 * `bundle.publish` register (DESIGN §8).
 */
import { describe, it, expect } from '@jest/globals';
import { PolicyState } from './state.js';
import { BundlePublish, DoorEvent, NodeEnrol } from '../schemas/bodies.js';
import { entryHash, isRestrictive } from '../entry.js';
import { TestSite, memberBody, resourceBody, shuffled, testCard, testKey } from '@keymesh/testkit/site';

const NOW = 1_700_000_000_000;

function space() {
  const site = new TestSite({ now: () => NOW });
  const A = site.admins[0]!;
  const old = site.writer(testKey(30));
  const fresh = testKey(31);
  A.write('resource.put', resourceBody('door', { kind: 'door' }));
  A.write('node.enrol', { node: old.id, name: 'door-pi', role: 'edge', resources: ['door'] });
  old.receive(A.feed);
  const tap = (i: number) => old.write('access.decision', { resource: 'door', credential: { kind: 'card', card: testCard('a1') }, allow: true, reason: 'ALLOWED', member: null, at: NOW + i });
  return { site, A, old, fresh, tap };
}

describe('node.enrol replacing a key', () => {
  it('retires the old feed at the seq it names; what the old key recorded up to there still counts, in any order', () => {
    const { site, A, old, fresh, tap } = space();
    for (let i = 0; i < 3; i++) tap(i);
    const r = A.write('node.enrol', { node: fresh.publicKey, name: 'door-pi', role: 'edge', resources: ['door'], replaces: { node: old.id, lastSeq: 2 } }, A.state.headHashes(`node/${old.id}`));
    const entries = [...A.known(), ...old.feed];
    const s = PolicyState.from(site.site, entries);
    expect(s.node(old.id)).toMatchObject({ retired: true, lastSeq: 2, everResources: ['door'] });
    expect(s.node(fresh.publicKey)).toMatchObject({ retired: false, resources: ['door'] });
    expect(s.trustedNode(old.id, 2)).toBeDefined();
    expect(s.trustedNode(old.id, 3)).toBeUndefined();
    expect(s.events().map((e) => e.seq).sort()).toEqual([1, 2]);
    expect(s.conflicts()).toEqual([]);
    expect(s.dependents([`node/${fresh.publicKey}`])).toContain(`node/${old.id}`);
    // It retires a key, so a node obeys it whatever its time stamp (DESIGN §10); a plain enrolment grants.
    expect(isRestrictive(r)).toBe(true);
    expect(isRestrictive(A.feed.find((e) => e.type === 'node.enrol')!)).toBe(false);
    for (let seed = 0; seed < 5; seed++) expect(PolicyState.from(site.site, shuffled(entries, seed)).digest()).toBe(s.digest());
    // Added last to a state that already holds the old feed, it takes effect at once.
    const live = PolicyState.from(site.site, entries.filter((e) => e !== r));
    expect(live.node(old.id)?.retired).toBe(false);
    live.add(r);
    expect(live.node(old.id)).toMatchObject({ retired: true, lastSeq: 2 });
    expect(live.digest()).toBe(s.digest());
  });

  it('naming none of the old heads still retires it (a conflict an admin sees), and a replacement by a key without authority does nothing', () => {
    const { site, A, old, fresh } = space();
    A.write('node.enrol', { node: fresh.publicKey, name: 'p', role: 'edge', resources: ['door'], replaces: { node: old.id, lastSeq: 0 } }, []);
    const s = PolicyState.from(site.site, A.known());
    expect(s.node(old.id)).toMatchObject({ retired: true, lastSeq: 0 });
    expect(s.conflicts().map((c) => c.key)).toEqual([`node/${old.id}`]);

    const { site: site2, A: A2, old: old2 } = space();
    const X = site2.writer(testKey(40));
    X.receive(A2.feed);
    X.write('node.enrol', { node: testKey(41).publicKey, name: 'p', role: 'edge', resources: ['door'], replaces: { node: old2.id, lastSeq: 0 } }, X.state.headHashes(`node/${old2.id}`));
    expect(PolicyState.from(site2.site, [...A2.known(), ...X.feed]).node(old2.id)).toMatchObject({ retired: false, lastSeq: null });
  });

  it('a later enrolment of the old key whose deps name the replacement brings it back, as after a node.retire', () => {
    const { site, A, old, fresh } = space();
    const r = A.write('node.enrol', { node: fresh.publicKey, name: 'p', role: 'edge', resources: ['door'], replaces: { node: old.id, lastSeq: 0 } }, A.state.headHashes(`node/${old.id}`));
    expect(A.state.headHashes(`node/${old.id}`)).toEqual([entryHash(r)]);
    A.write('node.enrol', { node: old.id, name: 'door-pi', role: 'edge', resources: ['door'] }); // deps: that head
    expect(PolicyState.from(site.site, A.known()).node(old.id)).toMatchObject({ retired: false, lastSeq: null });
  });

  it('arriving last, it voids what the old key recorded past lastSeq in every value that depends on it, as a state built afresh does', () => {
    const site = new TestSite({ now: () => NOW });
    const A = site.admins[0]!;
    const old = site.writer(testKey(30));
    A.write('resource.put', resourceBody('laser', { kind: 'machine', requiredCerts: ['laser'] }));
    A.write('member.put', memberBody('tina', { trainerFor: [{ cert: 'laser', until: null }] }));
    A.write('member.put', memberBody('mo'));
    A.write('node.enrol', { node: old.id, name: 'laser-pi', role: 'edge', resources: ['laser'] });
    old.receive(A.feed);
    old.write('access.decision', { resource: 'laser', credential: { kind: 'card', card: testCard('a1') }, allow: false, reason: 'NOT_CERTIFIED', member: 'mo', at: NOW });
    // Past the seq the replacement keeps: written with the old key by whoever holds it now.
    old.write('cert.grant', { member: 'mo', cert: 'laser', grantedBy: 'tina', note: 'panel' }, A.state.headHashes('member/tina'));
    const live = PolicyState.from(site.site, [...A.known(), ...old.feed]);
    expect(live.certified('mo', 'laser')).toBe(true);
    const fresh = testKey(31).publicKey;
    const r = A.write('node.enrol', { node: fresh, name: 'laser-pi', role: 'edge', resources: ['laser'], replaces: { node: old.id, lastSeq: 1 } }, A.state.headHashes(`node/${old.id}`));
    live.add(r);
    const rebuilt = PolicyState.from(site.site, [...A.known(), ...old.feed]);
    expect(rebuilt.certified('mo', 'laser')).toBe(false);
    expect(live.certified('mo', 'laser')).toBe(false);
    expect(live.digest()).toBe(rebuilt.digest());
    // What a store rewrites for the replacement includes the certification it voided.
    expect(live.dependents([`node/${fresh}`])).toContain('cert/mo/laser');
  });

  it('never trusts again what a retirement it supersedes cut off, even through a chain of replacements', () => {
    const { site, A, old, tap } = space();
    for (let i = 0; i < 2; i++) tap(i);
    // Stolen: retired at 2. Whoever holds the key writes on.
    const retire = A.write('node.retire', { node: old.id, lastSeq: 2, reason: 'stolen' });
    for (let i = 2; i < 6; i++) tap(i);
    // The replacement names the retirement and the feed's head as a dashboard sees it (6).
    const k1 = testKey(31).publicKey;
    const r1 = A.write('node.enrol', { node: k1, name: 'door-pi', role: 'edge', resources: ['door'], replaces: { node: old.id, lastSeq: 6 } }, [entryHash(retire)]);
    let s = PolicyState.from(site.site, [...A.known(), ...old.feed]);
    expect(s.node(old.id)).toMatchObject({ retired: true, lastSeq: 2 });
    expect(s.trustedNode(old.id, 3)).toBeUndefined();
    expect(s.events().map((e) => e.seq).sort()).toEqual([1, 2]);
    // A second replacement naming the first is held to the same seq.
    const r2 = A.write('node.enrol', { node: testKey(32).publicKey, name: 'door-pi', role: 'edge', resources: ['door'], replaces: { node: old.id, lastSeq: 6 } }, [entryHash(r1)]);
    s = PolicyState.from(site.site, [...A.known(), ...old.feed]);
    expect(s.headHashes(`node/${old.id}`)).toEqual([entryHash(r2)]);
    expect(s.node(old.id)).toMatchObject({ retired: true, lastSeq: 2 });
    // Re-enrolling the old key is how trust comes back.
    A.write('node.enrol', { node: old.id, name: 'door-pi', role: 'edge', resources: ['door'] });
    expect(PolicyState.from(site.site, [...A.known(), ...old.feed]).node(old.id)).toMatchObject({ retired: false, lastSeq: null });
  });

  it('a key cannot replace itself', () => {
    const k = testKey(30).publicKey;
    expect(NodeEnrol.safeParse({ node: k, name: 'p', role: 'edge', resources: [], replaces: { node: k, lastSeq: 0 } }).success).toBe(false);
    expect(NodeEnrol.safeParse({ node: k, name: 'p', role: 'edge', resources: [], replaces: { node: testKey(31).publicKey, lastSeq: 0 } }).success).toBe(true);
  });
});

describe('bundle.publish', () => {
  const manifest = 'ab'.repeat(32);
  it('is an admin register; concurrent publications target only the nodes every one names', () => {
    const site = new TestSite({ admins: 2, now: () => NOW });
    const [A, B] = site.admins as [NonNullable<(typeof site.admins)[0]>, NonNullable<(typeof site.admins)[1]>];
    const n1 = testKey(30).publicKey;
    const n2 = testKey(31).publicKey;
    A.write('bundle.publish', { manifest, version: '1.4.2', size: 5_000_000, targets: [n1, n2] });
    expect(A.state.bundle(manifest)).toEqual({ manifest, version: '1.4.2', size: 5_000_000, targets: [n1, n2].sort() });
    B.write('bundle.publish', { manifest, version: '1.4.2', size: 5_000_000, targets: [n2] });
    const s = PolicyState.from(site.site, [...A.known(), ...B.feed]);
    expect(s.bundle(manifest)?.targets).toEqual([n2]);
    const X = site.writer(testKey(40));
    X.write('bundle.publish', { manifest: 'cd'.repeat(32), version: '6.6.6', size: 1, targets: 'all' });
    expect(PolicyState.from(site.site, [...A.known(), ...X.feed]).bundle('cd'.repeat(32))).toBeUndefined();
  });

  it('its schema refuses what is not a publication', () => {
    const ok = { manifest, version: '1.5.0-rc.1', size: 0, targets: 'all' };
    expect(BundlePublish.safeParse(ok).success).toBe(true);
    for (const bad of [{ ...ok, targets: [] }, { ...ok, targets: ['nothex'] }, { ...ok, version: '' }, { ...ok, version: '1 2' }, { ...ok, size: -1 }, { ...ok, manifest: 'AB'.repeat(32) }, { ...ok, extra: 1 }]) {
      expect(BundlePublish.safeParse(bad).success).toBe(false);
    }
  });
});

describe('door events', () => {
  const base = { resource: 'door', at: NOW };
  it('an unlock names its cause; a command cause names the command and its issuer', () => {
    expect(DoorEvent.safeParse({ ...base, event: 'unlocked', cause: null }).success).toBe(false);
    expect(DoorEvent.safeParse({ ...base, event: 'unlocked', cause: { kind: 'command', command: 'ef'.repeat(16), issuer: testKey(1).publicKey } }).success).toBe(true);
    expect(DoorEvent.safeParse({ ...base, event: 'unlocked', cause: { kind: 'command', command: 'ef'.repeat(16) } }).success).toBe(false);
    expect(DoorEvent.safeParse({ ...base, event: 'unlocked', cause: { kind: 'tap', member: 'ada', card: testCard('a1') } }).success).toBe(true);
    expect(DoorEvent.safeParse({ ...base, event: 'unlocked', cause: { kind: 'exit_button' } }).success).toBe(true);
    expect(DoorEvent.safeParse({ ...base, event: 'forced', cause: null }).success).toBe(true);
    expect(DoorEvent.safeParse({ ...base, event: 'opened' }).success).toBe(false); // cause is always present, null when none
  });
});
