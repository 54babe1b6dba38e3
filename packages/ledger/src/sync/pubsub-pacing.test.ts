import { describe, it, expect } from '@jest/globals';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { topics, type BodyOf } from '@keymesh/protocol';
import { MemoryBroker, TestSite, testCard, testKey, tempDir } from '@keymesh/testkit';
import { Ledger } from '../ledger.js';
import { decodeSyncMessage, encodeSyncMessage } from './codec.js';
import { ledgerSyncStore } from './ledger-store.js';
import { PubSubSync } from './pubsub.js';
import { signSync } from './signed.js';

const dir = tempDir();

describe('PubSubSync pacing', () => {
  it('an edge serving a 5,000-entry catch-up yields to the event loop: timers (taps) keep running in between, and every entry arrives', async () => {
    const site = new TestSite();
    const admin = site.admins[0]!;
    const S = testKey(60);
    admin.write('node.enrol', { node: S.publicKey, name: 'laser', role: 'edge', resources: ['laser'] });
    admin.write('node.enrol', { node: testKey(61).publicKey, name: 'coordinator', role: 'coordinator', resources: [] });
    const ledger = Ledger.open(join(dir, 'edge.db'), { site: site.site, durability: 'process' });
    ledger.ingest(admin.feed);
    const decision: BodyOf<'access.decision'> = { resource: 'laser', credential: { kind: 'card', card: testCard('04a1b2c3') }, allow: false, reason: 'UNKNOWN_CARD', member: null, at: 1_700_000_000_000 };
    ledger.appendMany(S, Array.from({ length: 5000 }, () => ({ type: 'access.decision' as const, body: decision })));
    const broker = new MemoryBroker({ auto: true });
    const sync = new PubSubSync({ bus: broker.client(S.publicKey), store: ledgerSyncStore(ledger), site: site.site, key: S, intervalMs: 0 });
    await sync.start();
    // The asker is a bare client: its own work would share this event loop and blur the measure.
    const asking = testKey(61);
    const A = asking.publicKey;
    const want = (to: number) => encodeSyncMessage(signSync({ kind: 'want' as const, node: A, to: S.publicKey, ranges: [{ author: S.publicKey, from: 1, to }] }, asking));
    const asker = broker.client(A);
    const t = topics(site.site);
    let received = 0;
    let done: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    await asker.subscribe(t.batch(S.publicKey, A), (m) => {
      const d = decodeSyncMessage(m.payload);
      if (d.ok && d.msg.kind === 'batch') received += d.msg.entries.length;
      if (received >= 5000) done();
    });
    // A warm-up catch-up first, so the measure is not of the first calls' compilation.
    await asker.publish(t.want(A, S.publicKey), want(300));
    while (received < 300) await new Promise((r) => setTimeout(r, 1));
    received = 0;
    sync.tick(); // a new round: what went out in the warm-up may be sent again
    let ticks = 0;
    let maxGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
    }, 1);
    const start = performance.now();
    last = start;
    await asker.publish(t.want(A, S.publicKey), want(5000));
    await finished;
    const total = performance.now() - start;
    clearInterval(timer);
    await sync.stop();
    ledger.close();
    broker.close();
    expect(received).toBe(5000);
    // Sent in several slices with the event loop turning in between, never one long block.
    // (A catch-up sent in one go blocks for all of it: maxGap ≈ total. Figures: bench sync.)
    expect(ticks).toBeGreaterThanOrEqual(3);
    expect(maxGap).toBeLessThan(total / 2);
  }, 60_000);
});
