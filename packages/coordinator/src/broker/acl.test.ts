import { topics } from '@keymesh/protocol';
import { siteAcl, type Principal } from './acl.js';

const SITE = 'ab'.repeat(32);
const OTHER_SITE = 'cd'.repeat(32);
const A = '1a'.repeat(32);
const B = '2b'.repeat(32);
const C = '3c'.repeat(32);
const t = topics(SITE);
const o = topics(OTHER_SITE);
const R = t.root;
const acl = siteAcl(SITE);

const edge: Principal = { kind: 'node', key: A };
const coord: Principal = { kind: 'node', key: C, role: 'coordinator' };
const admin: Principal = { kind: 'admin', key: B };

type Case = [string, Principal, string, boolean, boolean];

describe('publish', () => {
  const cases: Case[] = [
    // name, who, topic, retain, allowed
    ['node: own feed', edge, t.feed(A), false, true],
    ['node: own feed retained', edge, t.feed(A), true, false],
    ['node: own head retained', edge, t.head(A), true, true],
    ['node: own head live', edge, t.head(A), false, true],
    ['node: own status retained', edge, t.status(A), true, true],
    ['node: own state retained', edge, t.state(A), true, true],
    ['node: own have', edge, t.have(A), false, true],
    ['node: own have retained', edge, t.have(A), true, false],
    ['node: want to B', edge, t.want(A, B), false, true],
    ['node: want retained', edge, t.want(A, B), true, false],
    ['node: batch to B', edge, t.batch(A, B), false, true],
    ['node: blob get to B', edge, t.blob(`${A}/get/${B}`), false, true],
    ['node: blob put to B', edge, t.blob(`${A}/put/${B}`), false, true],
    ['node: blob held retained', edge, t.blob(`${A}/held`), true, true],
    ['node: another node\'s feed', edge, t.feed(B), false, false],
    ['node: another node\'s head', edge, t.head(B), true, false],
    ['node: another node\'s status', edge, t.status(B), true, false],
    ['node: want in another node\'s name', edge, t.want(B, A), false, false],
    ['node: batch in another node\'s name', edge, t.batch(B, C), false, false],
    ['node: blob part in another node\'s name', edge, t.blob(`${B}/put/${A}`), false, false],
    ['node: a command', edge, t.cmd(B), false, false],
    ['node: a command to itself', edge, t.cmd(A), false, false],
    ['node: want to a non-key', edge, `${R}/sync/${A}/want/someone`, false, false],
    ['node: want with no addressee', edge, `${R}/sync/${A}/want/`, false, false],
    ['node: feed with an extra level', edge, `${t.feed(A)}/x`, false, false],
    ['node: feed with a trailing slash', edge, `${t.feed(A)}/`, false, false],
    ['node: unknown kind', edge, `${R}/other/${A}`, false, false],
    ['node: the root itself', edge, R, false, false],
    ['node: wrong site', edge, o.feed(A), false, false],
    ['node: outside the root', edge, `elsewhere/${A}`, false, false],
    ['node: $SYS', edge, '$SYS/broker/x', false, false],
    ['node: wildcard +', edge, `${R}/feed/+`, false, false],
    ['node: wildcard #', edge, `${R}/#`, false, false],
    ['node: empty topic', edge, '', false, false],
    ['node: a huge topic', edge, `${t.feed(A)}${'/x'.repeat(400)}`, false, false],
    ['node: uppercase own key', edge, t.feed(A.toUpperCase()), false, false],
    ['admin: command', admin, t.cmd(A), false, true],
    ['admin: retained command', admin, t.cmd(A), true, false],
    ['admin: command to a non-key', admin, `${R}/cmd/door`, false, false],
    ['admin: command with an extra level', admin, `${t.cmd(A)}/x`, false, false],
    ['admin: a feed entry', admin, t.feed(B), false, false],
    ['admin: a node\'s feed', admin, t.feed(A), false, false],
    ['admin: a head', admin, t.head(B), true, false],
    ['admin: a status', admin, t.status(A), true, false],
    ['admin: command on another site', admin, o.cmd(A), false, false],
    ['admin: $SYS', admin, '$SYS/x', false, false],
    ['coordinator: own feed', coord, t.feed(C), false, true],
    ['coordinator: relays another feed', coord, t.feed(A), false, true],
    ['coordinator: relays a retained head', coord, t.head(A), true, true],
    ['coordinator: relays a command', coord, t.cmd(A), false, true],
    ['coordinator: retained command', coord, t.cmd(A), true, false],
    ['coordinator: retained feed', coord, t.feed(A), true, false],
    ['coordinator: another node\'s status', coord, t.status(A), true, false],
    ['coordinator: want in another node\'s name', coord, t.want(A, C), false, false],
    ['coordinator: wrong site', coord, o.feed(C), false, false],
  ];
  it.each(cases)('%s', (_name, who, topic, retain, allowed) => {
    const d = acl.publish(who, topic, retain);
    expect(d.ok).toBe(allowed);
    if (!d.ok) expect(d.reason.length).toBeGreaterThan(10);
  });
});

describe('subscribe', () => {
  const cases: Array<[string, Principal, string, boolean]> = [
    ['node: feeds', edge, t.filters.feeds, true],
    ['node: one feed', edge, t.feed(B), true],
    ['node: heads', edge, t.filters.heads, true],
    ['node: statuses', edge, `${R}/node/+/status`, true],
    ['node: states', edge, `${R}/node/+/state`, true],
    ['node: haves', edge, t.filters.haves, true],
    ['node: the coordinator\'s have', edge, t.have(C), true],
    ['node: wants to itself', edge, t.filters.wantsTo(A), true],
    ['node: batches to itself', edge, t.filters.batchesTo(A), true],
    ['node: batches from C to itself', edge, t.batch(C, A), true],
    ['node: blob gets to itself', edge, `${R}/blob/+/get/${A}`, true],
    ['node: blob parts to itself', edge, `${R}/blob/+/put/${A}`, true],
    ['node: held reports', edge, `${R}/blob/+/held`, true],
    ['node: its commands', edge, t.cmd(A), true],
    ['node: another node\'s commands', edge, t.cmd(B), false],
    ['node: every command', edge, `${R}/cmd/+`, false],
    ['node: wants to another node', edge, t.filters.wantsTo(B), false],
    ['node: every want', edge, `${R}/sync/+/want/+`, false],
    ['node: batches to another node', edge, t.filters.batchesTo(B), false],
    ['node: blob parts to another', edge, `${R}/blob/+/put/${B}`, false],
    ['node: sync/#', edge, `${R}/sync/#`, false],
    ['node: the whole site', edge, `${R}/#`, false],
    ['node: #', edge, '#', false],
    ['node: +/+/+/feed/+', edge, '+/+/+/feed/+', false],
    ['node: keymesh/v1/+/feed/+', edge, 'keymesh/v1/+/feed/+', false],
    ['node: $SYS/#', edge, '$SYS/#', false],
    ['node: wrong site feeds', edge, o.filters.feeds, false],
    ['node: feed/#', edge, `${R}/feed/#`, false],
    ['node: a malformed filter', edge, `${R}/feed/a+`, false],
    ['node: # not last', edge, `${R}/#/x`, false],
    ['admin: the whole site', admin, `${R}/#`, true],
    ['admin: every status', admin, `${R}/node/+/status`, true],
    ['admin: every want', admin, `${R}/sync/+/want/+`, true],
    ['admin: a node\'s commands', admin, t.cmd(A), false],
    ['admin: every command', admin, `${R}/cmd/#`, false],
    ['admin: #', admin, '#', false],
    ['admin: $SYS/#', admin, '$SYS/#', false],
    ['admin: +/+/+/#', admin, '+/+/+/#', false],
    ['admin: wrong site', admin, `${o.root}/#`, false],
    ['admin: a malformed filter', admin, `${R}/fe#ed`, false],
    ['coordinator: the whole site', coord, `${R}/#`, true],
    ['coordinator: its commands', coord, t.cmd(C), true],
    ['coordinator: another node\'s commands', coord, t.cmd(A), false],
    ['coordinator: $SYS/#', coord, '$SYS/#', false],
  ];
  it.each(cases)('%s', (_name, who, filter, allowed) => {
    expect(acl.subscribe(who, filter).ok).toBe(allowed);
  });
});

describe('forward', () => {
  const cases: Array<[string, Principal, string, boolean]> = [
    ['node: a feed', edge, t.feed(B), true],
    ['node: a head', edge, t.head(B), true],
    ['node: a want to it', edge, t.want(C, A), true],
    ['node: a want to another', edge, t.want(C, B), false],
    ['node: a batch to another', edge, t.batch(C, B), false],
    ['node: a blob part to another', edge, t.blob(`${C}/put/${B}`), false],
    ['node: its command', edge, t.cmd(A), true],
    ['node: another node\'s command', edge, t.cmd(B), false],
    ['node: $SYS', edge, '$SYS/broker/heartbeat', false],
    ['node: another site\'s feed', edge, o.feed(B), false],
    ['admin: a feed', admin, t.feed(A), true],
    ['admin: a want to another', admin, t.want(C, A), true],
    ['admin: a command', admin, t.cmd(A), false],
    ['admin: $SYS', admin, '$SYS/x/new/clients', false],
    ['coordinator: a batch to another', coord, t.batch(A, B), true],
    ['coordinator: its command', coord, t.cmd(C), true],
    ['coordinator: another node\'s command', coord, t.cmd(A), false],
  ];
  it.each(cases)('%s', (_name, who, topic, allowed) => {
    expect(acl.forward(who, topic).ok).toBe(allowed);
  });
});

it('every refusal says why', () => {
  const d = acl.publish(edge, t.feed(B), false);
  expect(d).toEqual({ ok: false, reason: expect.stringContaining(t.feed(B)) });
  expect(acl.subscribe(edge, '$SYS/#')).toEqual({ ok: false, reason: expect.stringContaining('$SYS') });
  expect(acl.publish(admin, t.cmd(A), true)).toEqual({ ok: false, reason: expect.stringContaining('retained') });
  expect(acl.publish(edge, o.feed(A), false)).toEqual({ ok: false, reason: expect.stringContaining('outside this site') });
});
