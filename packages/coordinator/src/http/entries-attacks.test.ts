/**
 * An unauthenticated LAN client flooding POST /api/entries with lines that are refused and
 * kept as evidence (bad JSON, bad signature): each kept refusal is a write transaction, so
 * keeping is rationed; every request is still answered with its refusal, and nothing else
 * changes (the ledger's entries, the heads).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { MemoryBroker } from '@keymesh/testkit/memory-broker';
import { stopSyncPeers, syncPeer, syncSite } from '@keymesh/testkit/sync-fixtures';
import { CoordinatorMetrics } from './metrics.js';
import { buildApi } from './server.js';
import { QUARANTINE_RATE } from './routes/entries.js';

const closers: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await stopSyncPeers();
});

describe('POST /api/entries flooded with refused lines', () => {
  it(`keeps at most ${QUARANTINE_RATE.burst} of a burst in the quarantine; answers every one 422 and changes nothing else`, async () => {
    const s = syncSite();
    const broker = new MemoryBroker();
    closers.push(() => broker.close());
    const { ledger, sync } = await syncPeer(broker.client('coordinator'), s.site.site, s.C, s.admin.feed, { relay: true });
    const now = 1_800_000_000_000; // a clock that stands still: no refill
    const app = await buildApi({
      site: s.site.site, siteName: 'Test Space', coordinator: s.C.publicKey, ledger, sync, log: pino({ level: 'silent' }),
      metrics: new CoordinatorMetrics(ledger, { defaultMetrics: false }), publishCommand: async () => undefined, brokerClients: () => null, now: () => now,
    });
    closers.push(() => app.close());
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/entries`;
    let ingests = 0;
    const ingest = ledger.ingest.bind(ledger);
    ledger.ingest = ((...args: Parameters<typeof ledger.ingest>) => (ingests++, ingest(...args))) as typeof ledger.ingest;
    const before = { digest: ledger.digest(), heads: ledger.heads() };
    const n = QUARANTINE_RATE.burst + 50;
    const codes: number[] = [];
    for (let i = 0; i < n; i++) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ entry: `{"garbage":${i}` }) });
      codes.push(res.status);
    }
    expect(codes.every((c) => c === 422)).toBe(true);
    expect(ingests).toBe(QUARANTINE_RATE.burst);
    expect({ digest: ledger.digest(), heads: ledger.heads() }).toEqual(before);
  });
});
