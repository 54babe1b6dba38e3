import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { MIN_SYNC_MESSAGE_BYTES, PolicyState, topics, type AnyEntry, type KeyPair } from '@keymesh/protocol';
import { MemoryBroker, playHistory, shuffled, syncAudit, testKey, type HistoryStep, type PublishRecord } from '@keymesh/testkit';
import { Ledger } from '../ledger.js';
import { encodeSyncMessage } from './codec.js';
import { ledgerSyncStore } from './ledger-store.js';
import { PubSubSync } from './pubsub.js';
import { signSync } from './signed.js';

const step = fc.tuple(fc.nat(4), fc.nat(10), fc.nat(50), fc.nat(50)) as fc.Arbitrary<HistoryStep>;
// 100 histories by default (500 cost ~130 s of the suite's time): each run already draws 2-6
// replicas, up to 14 steps of every writer kind, drops, duplicates, reordering and two
// partitions, so 100 runs reach every path (catch-up batches, retained re-sends, pending
// entries, retirement) many times over. A deeper run: KEYMESH_PROPERTY_RUNS=1000 npm test.
const RUNS = Number(process.env.KEYMESH_PROPERTY_RUNS) || 100;

interface Node { id: string; key: KeyPair; ledger: Ledger; sync: PubSubSync }

/** The broker's tap feeds the audit of who answered whom (testkit's syncAudit). */
function addressingAudit(broker: MemoryBroker, site: string) {
  const audit = syncAudit(site);
  broker.onPublish((p: PublishRecord) => audit.record(p.clientId, p.topic, p.payload));
  return audit;
}

async function startNodes(broker: MemoryBroker, site: string, n: number, relay = true): Promise<Node[]> {
  const nodes: Node[] = [];
  for (let i = 0; i < n; i++) {
    const key = testKey(100 + i);
    // In-memory SQLite: 500 runs of up to six replicas; files cost ~20 ms an open (the aedes and node tests use files).
    const ledger = Ledger.open(':memory:', { site, durability: 'process' });
    const sync = new PubSubSync({ bus: broker.client(key.publicKey), store: ledgerSyncStore(ledger), site, key, relay, intervalMs: 0, maxMessageBytes: MIN_SYNC_MESSAGE_BYTES, openPeers: true });
    await sync.start();
    nodes.push({ id: key.publicKey, key, ledger, sync });
  }
  return nodes;
}

async function round(broker: MemoryBroker, nodes: Node[]): Promise<void> {
  for (const x of nodes) x.sync.tick();
  await broker.settle();
}

function agreed(nodes: Node[]): boolean {
  return new Set(nodes.map((x) => JSON.stringify(x.ledger.heads()))).size === 1 && new Set(nodes.map((x) => x.ledger.digest())).size === 1;
}

describe('PubSubSync over the in-memory bus', () => {
  it(`2-6 replicas with drops, duplicates, reordering and partitions that heal end with one digest; nobody answers a want addressed to another (${RUNS} runs)`, async () => {
    let totalBatches = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 14 }), fc.nat(), fc.integer({ min: 2, max: 6 }), async (steps, seed, n) => {
        const h = playHistory(steps);
        const entries = h.entries();
        const broker = new MemoryBroker({ seed, faults: { drop: 0.2, duplicate: 0.1, delayMs: [0, 20], reorder: 0.2 }, maxPayloadBytes: MIN_SYNC_MESSAGE_BYTES });
        const audit = addressingAudit(broker, h.site.site);
        const nodes = await startNodes(broker, h.site.site, n);
        try {
          // Each replica starts with a random part of the history; the rest arrives during the faults.
          const order = shuffled(entries, seed);
          const early = order.slice(0, Math.ceil(order.length / 2));
          const late = order.slice(early.length);
          early.forEach((e, i) => nodes[(i * 7 + seed) % n]!.ledger.ingest([e]));
          for (let r = 0; r < 6; r++) {
            // A partition of a random part of the replicas, healed two rounds later.
            if (r % 3 === 0) broker.partition(nodes.filter((_, i) => ((seed >> (i + r)) & 1) === 1).map((x) => x.id));
            if (r % 3 === 2) broker.heal();
            for (const [i, e] of late.splice(0, Math.ceil(late.length / 2)).entries()) {
              const x = nodes[(i + r + seed) % n]!;
              x.ledger.ingest([e as AnyEntry]);
            }
            await round(broker, nodes);
          }
          for (const e of late) nodes[seed % n]!.ledger.ingest([e]);
          broker.setFaults({}); // before heal(): the retained re-sends it queues are then not dropped
          broker.heal();
          let rounds = 0;
          while (!agreed(nodes) && rounds < 30) (await round(broker, nodes), rounds++);
          expect(agreed(nodes)).toBe(true);
          // The replicas hold what the history makes of the site. X holds no authority: its entries
          // wait in pending, never a feed; nor do entries past a key's authority (a retired node's
          // past its lastSeq), unless a replica stored them before it learned of the retirement.
          const state = PolicyState.from(h.site.site, entries);
          const X = h.writers.X.id;
          const trusted = entries.filter((e) => e.author !== X && (state.hasAuthorityAt(e.author, e.seq) || e.type === 'site.genesis')).length;
          const l = nodes[0]!.ledger;
          expect(l.digest()).toBe(state.digest());
          expect(l.count()).toBeGreaterThanOrEqual(trusted);
          expect(l.count()).toBeLessThanOrEqual(entries.filter((e) => e.author !== X).length);
          expect(l.heads()[X]).toBeUndefined();
          expect(audit.answeredByOthers).toBe(0);
          totalBatches += audit.batches;
        } finally {
          for (const x of nodes) (await x.sync.stop(), x.ledger.close());
          broker.close();
        }
      }),
      { numRuns: RUNS },
    );
    expect(totalBatches).toBeGreaterThan(100); // the audit saw real catch-ups
  }, 600_000);

  it('a want addressed to another replica, or naming another sender, is never answered', async () => {
    const h = playHistory(Array.from({ length: 30 }, (_, i) => [0, i % 10, i, i] as HistoryStep));
    const broker = new MemoryBroker({ seed: 7 });
    const audit = addressingAudit(broker, h.site.site);
    const [a, b] = await startNodes(broker, h.site.site, 2);
    a!.ledger.ingest(h.entries());
    const rogue = broker.client(testKey(900).publicKey);
    const r = rogue.clientId;
    const t = topics(h.site.site);
    const author = Object.keys(a!.ledger.heads())[0]!;
    const ranges = [{ author, from: 1, to: 5 }];
    const want = (to: string, node: string) => encodeSyncMessage(signSync({ kind: 'want' as const, node, to, ranges }, testKey(900)));
    await rogue.publish(t.want(r, a!.id), want(b!.id, r)); // topic names A, payload names B
    await rogue.publish(t.want(r, a!.id), want(a!.id, b!.id)); // names another sender
    await rogue.publish(t.want(r, b!.id), want(a!.id, r)); // B sees a want for A
    await broker.settle();
    const toRogue: PublishRecord[] = [];
    broker.onPublish((p) => p.topic.endsWith(`/batch/${r}`) && toRogue.push(p));
    await broker.settle();
    expect(toRogue).toHaveLength(0);
    expect(a!.sync.counters.misaddressed + b!.sync.counters.misaddressed).toBe(3);
    expect(a!.sync.counters.wantsAnswered + b!.sync.counters.wantsAnswered).toBe(0);
    expect(audit.answeredByOthers).toBe(0);
    // A want that is truly addressed is answered, to the asker only.
    await rogue.publish(t.want(r, a!.id), want(a!.id, r));
    const got: PublishRecord[] = [];
    broker.onPublish((p) => p.topic.endsWith(`/batch/${r}`) && got.push(p));
    await broker.settle();
    expect(got.length).toBeGreaterThan(0);
    for (const x of [a!, b!]) (await x.sync.stop(), x.ledger.close());
  });
});
