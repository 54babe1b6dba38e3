/**
 * The coordinator's own feed against a node that is behind or lies low: a coordinator restored
 * from an old copy must not take the first node's word for its head and re-sign seqs the other
 * nodes hold (a fork of its own feed). It decides when every node has spoken, or after the
 * grace period, by the highest claim; a node claiming more than is held keeps it from ticking.
 */
import { pino } from 'pino';
import type { Ledger, PubSubSync } from '@keymesh/ledger';
import { foundedLedger } from '@keymesh/testkit/ledger-fixtures';
import { testKey } from '@keymesh/testkit/site';
import { LEARN_GRACE_MS, OwnFeed } from './own-feed.js';

const NOW = 1_800_000_000_000;
const founder = testKey(1);
const coord = testKey(20);
const honest = testKey(30);
const stale = testKey(31);
const opened: Ledger[] = [];
afterAll(() => opened.forEach((l) => l.close()));

function setup() {
  const { ledger } = foundedLedger(NOW, opened);
  ledger.append(founder, 'node.enrol', { node: coord.publicKey, name: 'coordinator', role: 'coordinator', resources: [] });
  ledger.append(founder, 'node.enrol', { node: honest.publicKey, name: 'door-a', role: 'edge', resources: [] });
  ledger.append(founder, 'node.enrol', { node: stale.publicKey, name: 'door-b', role: 'edge', resources: [] });
  // What this (restored) copy holds of the coordinator's own feed: 2 ticks.
  ledger.appendMany(coord, [{ type: 'clock.tick', body: {} }, { type: 'clock.tick', body: {} }]);
  const acks = new Map<string, number>();
  const published: unknown[] = [];
  const sync = { acknowledgedBy: (n: string) => acks.get(n), publishEntries: (e: unknown[]) => published.push(...e) } as unknown as PubSubSync;
  const feed = new OwnFeed(ledger, coord, sync, pino({ level: 'silent' }), { tickMs: 1000 });
  return { ledger, acks, feed, published, local: () => ledger.heads()[coord.publicKey] ?? 0 };
}

describe("own feed: learning its head from the nodes", () => {
  it('does not take the first claim alone: a later, higher one stops it from re-signing seqs', () => {
    const s = setup();
    s.acks.set(stale.publicKey, 2); // a node that is behind answers first
    s.feed.check(NOW);
    expect(s.feed.learned).toBe(false);
    expect(s.local()).toBe(2);
    s.acks.set(honest.publicKey, 5); // the others hold 5 of this feed
    s.feed.check(NOW + 2000);
    expect(s.feed.learned).toBe(false);
    s.feed.check(NOW + LEARN_GRACE_MS + 5000);
    expect(s.feed.learned).toBe(false);
    expect(s.local()).toBe(2);
    expect(s.published).toEqual([]);
  });

  it('decides at once when every node has spoken, and ticks', () => {
    const s = setup();
    s.acks.set(stale.publicKey, 2);
    s.acks.set(honest.publicKey, 2);
    s.feed.check(NOW);
    expect(s.feed.learned).toBe(true);
    expect(s.local()).toBe(3);
    expect(s.published).toHaveLength(1);
  });

  it('with a node silent, decides after the grace period by what was heard', () => {
    const s = setup();
    s.acks.set(honest.publicKey, 2);
    s.feed.check(NOW);
    expect(s.feed.learned).toBe(false);
    s.feed.check(NOW + LEARN_GRACE_MS);
    expect(s.feed.learned).toBe(true);
    expect(s.local()).toBe(3);
  });
});
