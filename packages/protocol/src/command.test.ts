import { describe, it, expect } from '@jest/globals';
import { makeCommand, verifyCommand, isCurrentAdmin, MAX_COMMAND_TTL_MS, type Command, type CommandContext } from './command.js';
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
  return { site: SITE, node: door, now: T + 1000, retained: false, admins: state, seen: new ReplayCache(), ...over };
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
      ['BAD_SIGNATURE', { ...c, resource: 'workshop' }, {}],
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

  it('is current-admin-only: a withdrawn admin key is not one', () => {
    expect(isCurrentAdmin(state, admin.publicKey)).toBe(true);
    expect(isCurrentAdmin(state, withdrawn.publicKey)).toBe(false);
    expect(isCurrentAdmin(state, outsider.publicKey)).toBe(false);
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
});
