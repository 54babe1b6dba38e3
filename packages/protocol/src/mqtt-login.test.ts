import { describe, it, expect } from '@jest/globals';
import { loginReplayCache, makeLoginToken, mayConnect, verifyLoginToken, LOGIN_WINDOW_MS, MAX_LOGINS_PER_KEY, type LoginContext } from './mqtt-login.js';
import { ReplayCache } from './replay-cache.js';
import { keyPairFromSeed } from './keys.js';
import { SIGNING_DOMAINS, signDomain } from './crypto/domains.js';
import { canonicalString } from './canonical.js';
import { signEntry } from './entry.js';
import { PolicyState } from './policy/state.js';
import { utf8 } from './bytes.js';
import type { AnyEntry } from './schemas/entry.js';

const key = (n: number) => keyPairFromSeed(new Uint8Array(32).fill(n));
const node = key(5);
const SITE = 'c'.repeat(64);
const T = 1_700_000_000_000;
const ctx = (over: Partial<LoginContext> = {}): LoginContext => ({ clientId: 'door-pi', site: SITE, now: T, seen: new ReplayCache(), startedAt: 0, mayConnect: () => true, ...over });

describe('MQTT login tokens', () => {
  it('a token made now logs in once, within ±5 min of the broker clock; bytes work as well as text', () => {
    const { username, password } = makeLoginToken({ clientId: 'door-pi', site: SITE, now: T }, node);
    expect(username).toBe(node.publicKey);
    const seen = new ReplayCache();
    expect(verifyLoginToken(username, utf8(password), ctx({ seen, now: T + LOGIN_WINDOW_MS }))).toEqual({ ok: true, key: node.publicKey, ts: T });
    expect(verifyLoginToken(username, password, ctx({ seen }))).toMatchObject({ ok: false, code: 'REPLAYED' });
    expect(verifyLoginToken(username, password, ctx({ now: T - LOGIN_WINDOW_MS })).ok).toBe(true);
  });

  it('refuses what is wrong with its code', () => {
    const { username, password } = makeLoginToken({ clientId: 'door-pi', site: SITE, now: T }, node);
    const token = JSON.parse(password) as { ts: number; sig: string };
    const cases: Array<[string, unknown, unknown, Partial<LoginContext>]> = [
      ['SCHEMA', 'door-pi', password, {}],
      ['SCHEMA', username, 'hunter2', {}],
      ['SCHEMA', username, undefined, {}],
      ['SCHEMA', username, new Uint8Array([0xff, 0xfe]), {}],
      ['SCHEMA', username, canonicalString({ ...token, extra: 1 }), {}],
      ['SCHEMA', username, password, { clientId: 'has space' }],
      ['BAD_SIGNATURE', key(6).publicKey, password, {}],
      ['BAD_SIGNATURE', username, password, { clientId: 'other-client' }],
      ['BAD_SIGNATURE', username, password, { site: 'd'.repeat(64) }],
      ['BAD_SIGNATURE', username, canonicalString({ ...token, ts: T + 1 }), {}],
      ['EXPIRED', username, password, { now: T + LOGIN_WINDOW_MS + 1 }],
      ['NOT_YET_VALID', username, password, { now: T - LOGIN_WINDOW_MS - 1 }],
      ['NOT_ALLOWED', username, password, { mayConnect: () => false }],
    ];
    for (const [code, u, p, over] of cases) {
      const seen = new ReplayCache();
      expect([code, verifyLoginToken(u, p, ctx({ ...over, seen }))]).toEqual([code, expect.objectContaining({ ok: false, code })]);
      expect(seen.size).toBe(0);
    }
  });

  it('a token used before the broker restarted is refused after it (BEFORE_START); a fresh one logs in', () => {
    const { username, password } = makeLoginToken({ clientId: 'door-pi', site: SITE, now: T }, node);
    expect(verifyLoginToken(username, password, ctx({ now: T + 1000 })).ok).toBe(true);
    const restarted = { seen: loginReplayCache(), startedAt: T + 2000, now: T + 3000 };
    expect(verifyLoginToken(username, password, ctx(restarted))).toMatchObject({ ok: false, code: 'BEFORE_START' });
    const fresh = makeLoginToken({ clientId: 'door-pi', site: SITE, now: T + 3000 }, node);
    expect(verifyLoginToken(fresh.username, fresh.password, ctx(restarted)).ok).toBe(true);
    const { startedAt: _s, ...without } = ctx();
    expect(verifyLoginToken(fresh.username, fresh.password, without as LoginContext)).toMatchObject({ ok: false, code: 'BEFORE_START' });
  });

  it('a token spelt another way is the same token: refused as replayed after its first use', () => {
    const { username, password } = makeLoginToken({ clientId: 'door-pi', site: SITE, now: T }, node);
    const { sig, ts } = JSON.parse(password) as { ts: number; sig: string };
    const seen = new ReplayCache();
    expect(verifyLoginToken(username, password, ctx({ seen })).ok).toBe(true);
    for (const respelt of [`{ "ts": ${ts}, "sig": "${sig}" }`, `{"sig":"${sig}","ts":${ts / 1e12}e12}`, `{"ts":${ts},"sig":"${sig}","ts":${ts}}`]) {
      expect(verifyLoginToken(username, respelt, ctx({ seen }))).toMatchObject({ ok: false, code: 'REPLAYED' });
    }
    expect(verifyLoginToken(username, canonicalString({ sig: sig.toUpperCase(), ts }), ctx({ seen }))).toMatchObject({ ok: false, code: 'SCHEMA' });
  });

  it('a broker that leaves out the mayConnect check lets nobody in', () => {
    const { username, password } = makeLoginToken({ clientId: 'door-pi', site: SITE, now: T }, key(66));
    const { mayConnect: _m, ...without } = ctx();
    expect(verifyLoginToken(username, password, without as LoginContext)).toMatchObject({ ok: false, code: 'NOT_ALLOWED' });
  });

  it('one key making tokens in a loop is refused alone; other keys still log in', () => {
    const seen = loginReplayCache();
    const mallory = key(8);
    for (let i = 0; i < MAX_LOGINS_PER_KEY; i++) {
      const t = makeLoginToken({ clientId: `m${i}`, site: SITE, now: T }, mallory);
      expect(verifyLoginToken(t.username, t.password, ctx({ clientId: `m${i}`, seen })).ok).toBe(true);
    }
    const more = makeLoginToken({ clientId: 'm-last', site: SITE, now: T }, mallory);
    expect(verifyLoginToken(more.username, more.password, ctx({ clientId: 'm-last', seen }))).toMatchObject({ ok: false, code: 'REPLAY_CACHE_FULL' });
    const t = makeLoginToken({ clientId: 'door-pi', site: SITE, now: T }, node);
    expect(verifyLoginToken(t.username, t.password, ctx({ seen })).ok).toBe(true);
  });

  it('makeLoginToken refuses a claim the broker would refuse', () => {
    expect(() => makeLoginToken({ clientId: 'has space', site: SITE, now: T }, node)).toThrow(expect.objectContaining({ code: 'SCHEMA' }));
    expect(() => makeLoginToken({ clientId: 'door-pi', site: 'site-1', now: T }, node)).toThrow(expect.objectContaining({ code: 'SCHEMA' }));
  });

  it('a signature over the same claim under another domain is refused', () => {
    const claim = { clientId: 'door-pi', site: SITE, ts: T };
    for (const d of [SIGNING_DOMAINS.entry, SIGNING_DOMAINS.cmd, SIGNING_DOMAINS.sync]) {
      const password = canonicalString({ sig: signDomain(d, claim, node), ts: T });
      expect(verifyLoginToken(node.publicKey, password, ctx())).toMatchObject({ ok: false, code: 'BAD_SIGNATURE' });
    }
    expect(verifyLoginToken(node.publicKey, canonicalString({ sig: signDomain(SIGNING_DOMAINS.mqtt, claim, node), ts: T }), ctx()).ok).toBe(true);
  });

  it('only current admins and enrolled, unretired nodes may connect', () => {
    const admin = key(1);
    const g = signEntry(admin, { site: '', seq: 1, prev: null, hlc: { wall: T, logical: 0 }, type: 'site.genesis', deps: [], body: { name: 'S', admins: [admin.publicKey], quorum: 1 } });
    const s = new PolicyState(g.hash);
    s.add(g.entry as AnyEntry, g.hash);
    let prev = g.hash;
    const write = (seq: number, type: 'node.enrol' | 'node.retire', body: never) => {
      const e = signEntry(admin, { site: g.hash, seq, prev, hlc: { wall: T, logical: seq }, type, deps: s.headHashes(`node/${(body as { node: string }).node}`), body });
      s.add(e.entry as AnyEntry, e.hash);
      prev = e.hash;
    };
    write(2, 'node.enrol', { node: node.publicKey, name: 'door', role: 'edge', resources: ['door'] } as never);
    write(3, 'node.enrol', { node: key(7).publicKey, name: 'old', role: 'edge', resources: ['door'] } as never);
    write(4, 'node.retire', { node: key(7).publicKey, lastSeq: 0, reason: 'gone' } as never);
    expect(mayConnect(s, admin.publicKey)).toBe(true);
    expect(mayConnect(s, node.publicKey)).toBe(true);
    expect(mayConnect(s, key(7).publicKey)).toBe(false);
    expect(mayConnect(s, key(8).publicKey)).toBe(false);
  });
});
