import { describe, it, expect } from '@jest/globals';
import { decide, localTime } from './decide.js';
import { DECISION_REASONS } from './schemas/decision.js';
import { PolicyState } from './policy/state.js';
import { TestSite, memberBody, resourceBody, testCard, testKey } from '@keymesh/testkit/site';

const NOW = Date.UTC(2026, 10, 18, 14, 30); // a Wednesday, 14:30 UTC
const HOUR = 3_600_000;
const NODE = testKey(30).publicKey;

function space() {
  const site = new TestSite({ now: () => NOW });
  const A = site.admins[0]!;
  A.write('resource.put', resourceBody('door', { kind: 'door' }));
  A.write('resource.put', resourceBody('laser', { requiredCerts: ['laser'], risk: 'high', maxStaleHours: 24 }));
  A.write('resource.put', resourceBody('shop', { schedule: { timezone: 'Europe/Berlin', windows: [{ days: [1, 2, 3, 4, 5], from: 9 * 60, to: 15 * 60 }] } }));
  A.write('member.put', memberBody('ada'));
  A.write('member.put', memberBody('bob', { status: 'suspended' }));
  A.write('member.put', memberBody('cy', { validUntil: NOW - 1 }));
  A.write('member.put', memberBody('root', { keys: [{ key: A.id, until: null }] }));
  A.write('card.bind', { card: testCard('a1'), member: 'ada' });
  A.write('card.bind', { card: testCard('b1'), member: 'bob' });
  A.write('card.bind', { card: testCard('c1'), member: 'cy' });
  A.write('card.bind', { card: testCard('r1'), member: 'root' });
  A.write('card.bind', { card: testCard('g1'), member: 'ghost' });
  A.write('card.bind', { card: testCard('x1'), member: 'ada' });
  A.write('card.unbind', { card: testCard('x1'), reason: 'lost' });
  // The deciding reader: enrolled for every resource (and one the rules do not know).
  A.write('node.enrol', { node: NODE, name: 'panel', role: 'edge', resources: ['door', 'laser', 'shop', 'nowhere'] });
  return { site, A, state: A.state };
}

const card = (uid: string) => ({ kind: 'card' as const, card: testCard(uid) });

describe('decide', () => {
  const { A, state } = space();
  const fresh = { node: NODE, rulesSyncedAt: NOW - HOUR };

  it.each([
    ['a1', 'door', true, 'ALLOWED'],
    ['zz', 'door', false, 'UNKNOWN_CARD'],
    ['x1', 'door', false, 'CARD_UNBOUND'],
    ['g1', 'door', false, 'UNKNOWN_MEMBER'],
    ['b1', 'door', false, 'MEMBER_SUSPENDED'],
    ['c1', 'door', false, 'MEMBERSHIP_EXPIRED'],
    ['a1', 'laser', false, 'NOT_CERTIFIED'],
    ['a1', 'nowhere', false, 'UNKNOWN_RESOURCE'],
  ])('card %s at %s → allow=%s (%s)', (uid, resource, allow, reason) => {
    const d = decide(state, card(uid), resource, NOW, fresh);
    expect(d).toMatchObject({ allow, reason, message: DECISION_REASONS[reason as keyof typeof DECISION_REASONS] });
  });

  it('lists missing certifications, and allows once certified', () => {
    expect(decide(state, card('a1'), 'laser', NOW, fresh)).toMatchObject({ reason: 'NOT_CERTIFIED', missing: ['laser'] });
    const s2 = PolicyState.from(A.state.site, A.known());
    const g = A.write('cert.grant', { member: 'ada', cert: 'laser', grantedBy: null, note: '' });
    s2.add(g);
    expect(decide(s2, card('a1'), 'laser', NOW, fresh)).toMatchObject({ allow: true, reason: 'ALLOWED', member: 'ada' });
  });

  it('applies the weekly schedule in the resource time zone', () => {
    // 14:30 UTC on Wednesday 18 Nov 2026 is 15:30 in Berlin: closed (window ends 15:00).
    expect(localTime(NOW, 'Europe/Berlin')).toEqual({ day: 3, minute: 15 * 60 + 30 });
    expect(decide(state, card('a1'), 'shop', NOW, fresh)).toMatchObject({ allow: false, reason: 'OUTSIDE_SCHEDULE' });
    expect(decide(state, card('a1'), 'shop', NOW - 2 * HOUR, fresh)).toMatchObject({ allow: true });
    expect(decide(state, card('a1'), 'shop', NOW + 3 * 24 * HOUR - 2 * HOUR, fresh)).toMatchObject({ allow: false, reason: 'OUTSIDE_SCHEDULE' }); // Saturday
  });

  it('past maxStaleHours a high-risk machine admits only admins; a door keeps working', () => {
    const { A: A2, state: s } = space();
    for (const m of ['ada', 'root']) A2.write('cert.grant', { member: m, cert: 'laser', grantedBy: null, note: '' });
    const stale = { node: NODE, rulesSyncedAt: NOW - 25 * HOUR };
    expect(decide(s, card('a1'), 'laser', NOW, stale)).toMatchObject({ allow: false, reason: 'RULES_STALE' });
    expect(decide(s, card('a1'), 'laser', NOW, { node: NODE })).toMatchObject({ allow: false, reason: 'RULES_STALE' });
    expect(decide(s, card('r1'), 'laser', NOW, stale)).toMatchObject({ allow: true, reason: 'ALLOWED_ADMIN_STALE_RULES' });
    expect(decide(s, card('a1'), 'door', NOW, stale)).toMatchObject({ allow: true, reason: 'ALLOWED' });
    expect(decide(s, card('a1'), 'laser', NOW, fresh)).toMatchObject({ allow: true, reason: 'ALLOWED' });
  });

  it('a card bound by a key that is not an admin opens nothing', () => {
    const { site, state: s } = space();
    const X = site.writer(testKey(99));
    X.receive(site.admins[0]!.known());
    const e = X.write('card.bind', { card: testCard('evil'), member: 'ada' });
    s.add(e);
    expect(decide(s, card('evil'), 'door', NOW, fresh)).toMatchObject({ allow: false, reason: 'UNKNOWN_CARD' });
  });

  it('a reader that is not enrolled for the resource, retired, or replaced decides nothing', () => {
    const { A: A2, state: s } = space();
    const refused = { allow: false, reason: 'NODE_NOT_ENROLLED', member: null };
    expect(decide(s, card('a1'), 'door', NOW, fresh)).toMatchObject({ allow: true });
    expect(decide(s, card('a1'), 'door', NOW, { node: testKey(31).publicKey })).toMatchObject(refused);
    const narrow = testKey(32).publicKey;
    A2.write('node.enrol', { node: narrow, name: 'front', role: 'edge', resources: ['door'] });
    expect(decide(s, card('a1'), 'door', NOW, { node: narrow })).toMatchObject({ allow: true });
    expect(decide(s, card('a1'), 'shop', NOW - 2 * HOUR, { node: narrow })).toMatchObject(refused);
    A2.write('node.retire', { node: narrow, lastSeq: 0, reason: 'stolen' });
    expect(decide(s, card('a1'), 'door', NOW, { node: narrow })).toMatchObject(refused);
    // A re-imaged reader: its new key replaces the old one, which decides nothing after.
    const fresh2 = testKey(33).publicKey;
    A2.write('node.enrol', { node: fresh2, name: 'panel', role: 'edge', resources: ['door'], replaces: { node: NODE, lastSeq: 0 } }, [...s.headHashes(`node/${NODE}`)]);
    expect(decide(s, card('a1'), 'door', NOW, { node: fresh2 })).toMatchObject({ allow: true });
    expect(decide(s, card('a1'), 'door', NOW, fresh)).toMatchObject(refused);
  });
});
