// The edge's MQTT connection: a fresh login token per attempt, backoff with jitter, and a way
// back in when the node's verified time runs ahead of the broker's clock.
import { loginReplayCache, verifyLoginToken } from '@keymesh/protocol';
import { startAedes, type AedesHandle } from '@keymesh/testkit/aedes-broker';
import { eventually } from '@keymesh/testkit/processes';
import { testKey } from '@keymesh/testkit/site';
import { backoffMs, EdgeConnection } from './connection.js';

const SITE = 'ab'.repeat(32);
const key = testKey(40);

test('backoff doubles from the minimum up to the maximum, within ±25 % jitter', () => {
  const o = { minMs: 500, maxMs: 30_000 };
  for (const r of [0, 0.5, 0.999]) {
    expect(backoffMs(0, o, () => r)).toBeGreaterThanOrEqual(375);
    expect(backoffMs(0, o, () => r)).toBeLessThanOrEqual(625);
    expect(backoffMs(3, o, () => r)).toBeGreaterThanOrEqual(3000);
    expect(backoffMs(3, o, () => r)).toBeLessThanOrEqual(5000);
    expect(backoffMs(40, o, () => r)).toBeLessThanOrEqual(37_500);
    expect(backoffMs(40, o, () => r)).toBeGreaterThanOrEqual(22_500);
  }
});

describe('against a broker that checks login tokens', () => {
  let broker: AedesHandle;
  const seen = loginReplayCache();
  const passwords: string[] = [];
  beforeAll(async () => {
    const startedAt = Date.now() - 1000;
    broker = await startAedes({
      authenticate: (client, username, password, done) => {
        const pw = password?.toString('utf8') ?? '';
        passwords.push(pw);
        const v = verifyLoginToken(username, pw, { clientId: client.id, site: SITE, now: Date.now(), seen, startedAt, mayConnect: (k) => k === key.publicKey });
        if (v.ok) return done(null, true);
        const err = Object.assign(new Error(v.reason), { returnCode: 5 });
        done(err as never, false);
      },
    });
  });
  afterAll(() => broker.close());

  test('a node whose verified time is a day ahead of the broker is refused once, then gets in with its wall clock; every attempt has a new token', async () => {
    const states: boolean[] = [];
    const c = new EdgeConnection({ broker: { url: broker.url }, site: SITE, key, now: () => Date.now() + 86_400_000, backoff: { minMs: 50, maxMs: 200 }, onState: (up) => states.push(up) });
    try {
      await eventually('the connection to be taken', () => (c.connected ? true : undefined), 10_000);
      expect(states[0]).toBe(false);
      expect(passwords.length).toBeGreaterThanOrEqual(2);
      expect(new Set(passwords).size).toBe(passwords.length);
    } finally {
      await c.close();
    }
  });

  test('after the broker drops it, the node comes back by itself with a fresh token', async () => {
    const c = new EdgeConnection({ broker: { url: broker.url }, site: SITE, key, now: () => Date.now(), backoff: { minMs: 50, maxMs: 200 } });
    try {
      await eventually('connected', () => (c.connected ? true : undefined), 10_000);
      const before = passwords.length;
      broker.cutAll();
      await eventually('reconnected', () => (c.connected && passwords.length > before ? true : undefined), 10_000);
      expect(new Set(passwords).size).toBe(passwords.length);
    } finally {
      await c.close();
    }
  });
});
