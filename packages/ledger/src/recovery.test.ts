// Issue 10, Acceptance: recovery (DESIGN §3). A site made by createSite() has a daily and a
// recovery admin key; a forked daily key is removed with the recovery key and the site works
// again. Real SQLite files, reopened.
import { describe, it, expect } from '@jest/globals';
import { join } from 'node:path';
import { createSite, decide, signEntry } from '@keymesh/protocol';
import { memberBody, resourceBody, testKey, testCard } from '@keymesh/testkit/site';
import { Ledger } from './ledger.js';
import { tempDir } from '@keymesh/testkit/temp-ledger';

const NOW = 1_700_000_000_000;
const tap = (uid: string) => ({ kind: 'card' as const, card: testCard(uid) });

describe('recovery of a site whose daily admin key forked', () => {
  it('fork the daily key, remove it with the recovery key, then a newly added member opens a door', () => {
    const made = createSite({ name: 'Hackspace', now: NOW });
    const path = join(tempDir(), 'coordinator.db');
    const ledger = Ledger.open(path, { site: made.site, durability: 'process', now: () => NOW });
    expect(ledger.ingest([made.genesis.wire]).accepted).toBe(1);
    const door = testKey(301);
    ledger.append(made.daily, 'resource.put', resourceBody('door', { kind: 'door' }));
    ledger.append(made.daily, 'node.enrol', { node: door.publicKey, name: 'front door', role: 'edge', resources: ['door'] });
    const last = ledger.append(made.daily, 'member.put', memberBody('ann')).entry;
    // The same daily key signs its seq 4 again elsewhere (a second browser): a fork.
    const twin = signEntry(made.daily, { site: made.site, seq: last.seq, prev: last.prev, hlc: last.hlc, type: 'member.put', deps: [], body: memberBody('mallory') });
    expect(ledger.ingest([twin.wire]).forks).toEqual([{ author: made.daily.publicKey, seq: last.seq }]);
    expect(ledger.forks()).toEqual([expect.objectContaining({ author: made.daily.publicKey, seq: last.seq, resolved: false })]);
    expect(() => ledger.append(made.daily, 'member.put', memberBody('more'))).toThrow(expect.objectContaining({ code: 'SELF_FORK' }));
    expect(ledger.member('ann')).toBeUndefined(); // neither side of the fork counts
    expect(ledger.member('mallory')).toBeUndefined();

    // The recovery key withdraws the daily key at its last good seq and adds a new daily key.
    const daily2 = testKey(302);
    ledger.append(made.recovery, 'admins.change', {
      admins: [{ key: made.daily.publicKey, until: last.seq - 1 }, { key: made.recovery.publicKey, until: null }, { key: daily2.publicKey, until: null }],
      quorum: 1, approvals: [],
    });
    ledger.append(daily2, 'member.put', memberBody('newbie'));
    ledger.append(daily2, 'card.bind', { card: testCard('c-newbie'), member: 'newbie' });
    expect(decide(ledger.policy, tap('c-newbie'), 'door', NOW, { node: door.publicKey })).toMatchObject({ allow: true, member: 'newbie' });
    expect(ledger.forks()).toEqual([expect.objectContaining({ author: made.daily.publicKey, resolved: true })]);
    expect(ledger.resources().map((r) => r.resource)).toEqual(['door']); // the daily key's work before the fork stands
    const digest = ledger.digest();
    ledger.close();

    // A replica that receives everything (fork proof included) in another order agrees.
    const lines = [...readAll(path, made.site)].reverse();
    const edge = Ledger.open(join(tempDir(), 'edge.db'), { site: made.site, durability: 'process', now: () => NOW });
    edge.ingest(lines);
    edge.ingest(lines); // entries held for a predecessor apply on the second pass
    expect(edge.digest()).toBe(digest);
    expect(decide(edge.policy, tap('c-newbie'), 'door', NOW, { node: door.publicKey })).toMatchObject({ allow: true });
    edge.close();

    const again = Ledger.open(path, { site: made.site, durability: 'process', now: () => NOW });
    expect(again.digest()).toBe(digest);
    expect(decide(again.policy, tap('c-newbie'), 'door', NOW, { node: door.publicKey })).toMatchObject({ allow: true, member: 'newbie' });
    again.close();
  });
});

/** Every line the ledger exports (its feeds and its fork proofs). */
function readAll(path: string, site: string): string[] {
  const l = Ledger.open(path, { site, readonly: true });
  try {
    return [...l.iterateEncoded(), ...l.forkProofs()];
  } finally {
    l.close();
  }
}
