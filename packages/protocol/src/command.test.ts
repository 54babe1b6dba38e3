import { describe, it, expect } from '@jest/globals';
import { controlledResources, makeCommand, verifyCommand, isCurrentAdmin, MAX_COMMAND_TTL_MS, type Command, type CommandContext } from './command.js';
import { ReplayCache } from './replay-cache.js';
import { keyPairFromSeed } from './keys.js';
import { PolicyState } from './policy/state.js';
import { signEntry } from './entry.js';
import { SIGNING_DOMAINS, signDomain } from './crypto/domains.js';
import type { AnyEntry } from './schemas/entry.js';

const key = (n: number) => keyPairFromSeed(new Uint8Array(32).fill(n));
const admin = key(1);
const outsider = key(2);
const withdrawn = key(3);
const door = key(4).publicKey;
const T = 1_700_000_000_000;

/** A site whose admin set is `admin` (current) and `withdrawn` (until 0). */
function policy(): PolicyState {
  const g = signEntry(admin, { site: '', seq: 1, prev: null, hlc: { wall: T, logical: 0 }, type: 'site.genesis', deps: [], body: { name: 'S', admins: [admin.publicKey, withdrawn.publicKey], quorum: 1 } });
  const s = new PolicyState(g.hash);
  s.add(g.entry as AnyEntry, g.hash);
  const c = signEntry(admin, { site: g.hash, seq: 2, prev: g.hash, hlc: { wall: T, logical: 1 }, type: 'admins.change', deps: [g.hash], body: { admins: [{ key: admin.publicKey, until: null }, { key: withdrawn.publicKey, until: 0 }], quorum: 1, approvals: [] } });
  s.add(c.entry as AnyEntry, c.hash);
  return s;
}
const state = policy();
const SITE = state.site;

function ctx(over: Partial<CommandContext> = {}): CommandContext {
  return { site: SITE, node: door, resources: ['door'], now: T + 1000, retained: false, admins: state, seen: new ReplayCache(), ...over };
}
const unlock = (over: Partial<Parameters<typeof makeCommand>[0]> = {}, by = admin) => makeCommand({ site: SITE, node: door, resource: 'door', issuedAt: T, ...over }, by);

describe('commands', () => {
  it('a fresh command from a current admin to this node passes once', () => {
    const c = unlock();
    expect(c.id).toMatch(/^[0-9a-f]{32}$/);
    expect(c.expiresAt - c.issuedAt).toBeLessThanOrEqual(MAX_COMMAND_TTL_MS);
    const seen = new ReplayCache();
    expect(verifyCommand(c, ctx({ seen }))).toEqual({ ok: true, command: c });
    expect(verifyCommand(c, ctx({ seen }))).toMatchObject({ ok: false, code: 'REPLAYED' });
    expect(unlock().id).not.toBe(c.id);
  });

  it('refuses each wrong command with its code, and a refused one is not recorded', () => {
    const c = unlock();
    const cases: Array<[string, unknown, Partial<CommandContext>]> = [
      ['RETAINED', c, { retained: true }],
      ['SCHEMA', { ...c, extra: 1 }, {}],
      ['SCHEMA', { ...c, expiresAt: c.issuedAt + MAX_COMMAND_TTL_MS + 1 }, {}],
      ['SCHEMA', 'not a command', {}],
      ['WRONG_SITE', c, { site: 'b'.repeat(64) }],
      ['WRONG_NODE', c, { node: key(9).publicKey }],
      ['BAD_SIGNATURE', { ...c, resource: 'workshop' }, { resources: ['door', 'workshop'] }],
      ['BAD_SIGNATURE', { ...c, issuer: outsider.publicKey }, {}],
      ['NOT_ADMIN', unlock({}, outsider), {}],
      ['NOT_ADMIN', unlock({}, withdrawn), {}],
      ['NOT_ADMIN', c, { admins: () => false }],
      ['EXPIRED', c, { now: c.expiresAt + 1 }],
      ['NOT_YET_VALID', c, { now: T - 60_000 }],
    ];
    for (const [code, input, over] of cases) {
      const seen = new ReplayCache();
      expect([code, verifyCommand(input, ctx({ ...over, seen }))]).toEqual([code, expect.objectContaining({ ok: false, code })]);
      expect(seen.size).toBe(0);
    }
    // The same command is still good where it belongs.
    expect(verifyCommand(c, ctx()).ok).toBe(true);
  });

  it('a command for a resource this node does not control, or to a retired or replaced node, is refused', () => {
    const c = unlock({ resource: 'front-door' });
    for (const resources of [['door'], []]) {
      const seen = new ReplayCache();
      expect(verifyCommand(c, ctx({ resources, seen }))).toMatchObject({ ok: false, code: 'WRONG_RESOURCE' });
      expect(seen.size).toBe(0);
    }
    expect(verifyCommand(c, ctx({ resources: ['door', 'front-door'] })).ok).toBe(true);
    // What a node reads from its state: its enrolment's resources, none once retired.
    const s = policy();
    let prev = s.headHashes('admins')[0]!;
    let seq = 3;
    const write = (type: 'node.enrol' | 'node.retire', body: object) => {
      const e = signEntry(admin, { site: SITE, seq, prev, hlc: { wall: T, logical: seq }, type, deps: s.headHashes(`node/${door}`), body: body as never });
      s.add(e.entry as AnyEntry, e.hash);
      prev = e.hash;
      seq++;
    };
    expect(controlledResources(s, door)).toEqual([]);
    write('node.enrol', { node: door, name: 'front', role: 'edge', resources: ['front-door'] });
    expect(controlledResources(s, door)).toEqual(['front-door']);
    expect(verifyCommand(c, ctx({ resources: controlledResources(s, door) })).ok).toBe(true);
    write('node.retire', { node: door, lastSeq: 0, reason: 'stolen' });
    expect(controlledResources(s, door)).toEqual([]);
    expect(verifyCommand(c, ctx({ resources: controlledResources(s, door) }))).toMatchObject({ ok: false, code: 'WRONG_RESOURCE' });
  });

  it('a command acted on before a restart is refused after it, from the cache saved before acting', () => {
    const c = unlock();
    const before = new ReplayCache();
    expect(verifyCommand(c, ctx({ seen: before })).ok).toBe(true);
    const saved = JSON.stringify(before.snapshot(T + 1000)); // what the node writes before it drives the relay
    const after = ReplayCache.restore(JSON.parse(saved));
    expect(verifyCommand(c, ctx({ seen: after, now: T + 5000 }))).toMatchObject({ ok: false, code: 'REPLAYED' });
    // Once expired it is refused as such, and the snapshot no longer carries it.
    expect(verifyCommand(c, ctx({ seen: after, now: c.expiresAt + 1 }))).toMatchObject({ ok: false, code: 'EXPIRED' });
    expect(after.snapshot(c.expiresAt + 1).entries).toEqual([]);
  });

  it('a clock that goes back after a restart does not revive a command the saved cache forgot', () => {
    const c = unlock();
    const seen = new ReplayCache();
    expect(verifyCommand(c, ctx({ seen, now: T + 1000 })).ok).toBe(true);
    const later = unlock({ issuedAt: T + 120_000 });
    expect(verifyCommand(later, ctx({ seen, now: T + 121_000 })).ok).toBe(true);
    const saved = JSON.parse(JSON.stringify(seen.snapshot(T + 121_000))) as unknown;
    // The first command had expired when this was saved, so it is not in it ...
    expect((saved as { entries: unknown[] }).entries).toHaveLength(1);
    // ... and a Pi that boots with its clock back inside that command's life still refuses it.
    const afterBoot = ReplayCache.restore(saved);
    expect(verifyCommand(c, ctx({ seen: afterBoot, now: T + 2000 }))).toMatchObject({ ok: false, code: 'EXPIRED' });
    expect(verifyCommand(later, ctx({ seen: afterBoot, now: T + 2000 }))).toMatchObject({ ok: false, code: 'REPLAYED' });
  });

  it('is current-admin-only: a withdrawn admin key is not one', () => {
    expect(isCurrentAdmin(state, admin.publicKey)).toBe(true);
    expect(isCurrentAdmin(state, withdrawn.publicKey)).toBe(false);
    expect(isCurrentAdmin(state, outsider.publicKey)).toBe(false);
  });

  it('an admin key whose feed forked (in two places, maybe a thief\'s) commands nothing', () => {
    const s = policy();
    const prev = s.headHashes('admins')[0]!;
    for (const reason of ['lost', 'stolen']) {
      const e = signEntry(admin, { site: SITE, seq: 3, prev, hlc: { wall: T, logical: 3 }, type: 'card.unbind', deps: [], body: { card: 'ab'.repeat(16), reason } });
      s.add(e.entry as AnyEntry, e.hash);
    }
    expect(s.forks()).toHaveLength(1);
    expect(isCurrentAdmin(s, admin.publicKey)).toBe(false);
    expect(verifyCommand(unlock(), ctx({ admins: s }))).toMatchObject({ ok: false, code: 'NOT_ADMIN' });
  });

  it('a signature over the same command under another domain is refused', () => {
    const c = unlock();
    const { sig: _s, ...body } = c;
    for (const d of [SIGNING_DOMAINS.entry, SIGNING_DOMAINS.mqtt, SIGNING_DOMAINS.sync, SIGNING_DOMAINS.adminApproval]) {
      const forged: Command = { ...c, sig: signDomain(d, body, admin) };
      expect(verifyCommand(forged, ctx())).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
    }
  });

  it('makeCommand refuses a lifetime over 60 s, and a command nodes would refuse', () => {
    expect(() => unlock({ ttlMs: MAX_COMMAND_TTL_MS + 1 })).toThrow(RangeError);
    expect(() => unlock({ resource: 'front/door' })).toThrow(expect.objectContaining({ code: 'SCHEMA' }));
    expect(() => unlock({ node: 'door-pi' })).toThrow(expect.objectContaining({ code: 'SCHEMA' }));
  });
});

describe('ReplayCache', () => {
  it('forgets expired ids, and refuses rather than forgets a valid one when full', () => {
    const cache = new ReplayCache(2);
    expect(cache.check('a', 100, 0)).toBe('fresh');
    expect(cache.check('b', 200, 0)).toBe('fresh');
    expect(cache.check('a', 100, 50)).toBe('replayed');
    expect(cache.check('c', 300, 50)).toBe('full');
    expect(cache.check('c', 300, 150)).toBe('fresh'); // 'a' expired at 100 and was pruned
    expect(cache.has('a', 150)).toBe(false);
    expect(cache.has('b', 150)).toBe(true);
  });

  it('bounds what one owner may fill, so one key cannot lock every other out', () => {
    const cache = new ReplayCache(10, 3);
    for (let i = 0; i < 3; i++) expect(cache.check(`m${i}`, 1000, 0, 'mallory')).toBe('fresh');
    expect(cache.check('m3', 1000, 0, 'mallory')).toBe('full');
    expect(cache.check('a0', 1000, 0, 'alice')).toBe('fresh');
    expect(cache.check('m0', 1000, 1, 'mallory')).toBe('replayed');
    expect(cache.check('m4', 2000, 1001, 'mallory')).toBe('fresh'); // its old ones expired
  });

  it('a sender refused as full again and again makes it sweep only when something has expired', () => {
    const cache = new ReplayCache(100_000, 10);
    for (let i = 0; i < 50_000; i++) cache.check(`o${i}`, 1_000_000, 0, `other${i % 10_000}`);
    for (let i = 0; i < 10; i++) cache.check(`m${i}`, 500_000, 0, 'mallory');
    for (let i = 0; i < 1000; i++) expect(cache.check(`m-more${i}`, 500_000, 1 + i, 'mallory')).toBe('full');
    expect(cache.sweeps).toBe(0);
    // Once its entries expire, one sweep frees its share.
    expect(cache.check('m-late', 600_000, 500_001, 'mallory')).toBe('fresh');
    expect(cache.sweeps).toBe(1);
  });

  it('restores only what a snapshot holds; anything else is SCHEMA', () => {
    const cache = new ReplayCache();
    cache.check('a', 100, 0, 'k');
    cache.check('b', 50, 0);
    const back = ReplayCache.restore(cache.snapshot(0));
    expect(back.floor).toBe(0);
    expect(back.check('a', 100, 10, 'k')).toBe('replayed');
    expect(back.check('b', 50, 10)).toBe('replayed');
    expect(cache.snapshot(60)).toEqual({ floor: 60, entries: [['a', 100, 'k']] });
    expect(cache.snapshot(30)).toEqual({ floor: 60, entries: [['a', 100, 'k']] }); // the floor never goes back
    const entries = (e: unknown) => ({ floor: 0, entries: e });
    for (const bad of [null, [], {}, { floor: 0 }, { floor: -1, entries: [] }, { floor: 0.5, entries: [] }, { floor: 0, entries: [], extra: 1 },
      entries([['a', 1]]), entries([['a', 1.5, null]]), entries([['', 1, null]]), entries([['a', '1', null]]), entries([['a', 1, 7]]), entries([['x'.repeat(513), 1, null]])]) {
      expect(() => ReplayCache.restore(bad)).toThrow(expect.objectContaining({ code: 'SCHEMA' }));
    }
    expect(() => ReplayCache.restore(entries([['a', 1, null], ['b', 1, null]]), 1)).toThrow(expect.objectContaining({ code: 'SCHEMA' }));
  });
});
