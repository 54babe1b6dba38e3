/**
 * POST /api/entries, the compare-and-set relay: accepted entries are stored and published,
 * stale ones answered 409 with the head and nothing stored, refused ones 422 (and quarantined
 * when a received entry would be), through a listening port on a real ledger and PubSubSync.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { nextEntry, parseEntryText, type AnyEntry } from '@keymesh/protocol';
import { MemoryBroker } from '@keymesh/testkit/memory-broker';
import { TestSite, memberBody, testKey } from '@keymesh/testkit/site';
import { SYNC_T0, decisionBody, stopSyncPeers, syncPeer, syncSite } from '@keymesh/testkit/sync-fixtures';
import { CoordinatorMetrics } from './metrics.js';
import { buildApi } from './server.js';
import { httpCaller } from '@keymesh/testkit/http-caller';

const closers: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await stopSyncPeers();
});

async function api() {
  const s = syncSite();
  const broker = new MemoryBroker();
  closers.push(() => broker.close());
  const bus = broker.client('coordinator');
  const { ledger, sync } = await syncPeer(bus, s.site.site, s.C, s.admin.feed, { relay: true });
  const metrics = new CoordinatorMetrics(ledger, { defaultMetrics: false });
  const app = await buildApi({
    site: s.site.site, siteName: 'Test Space', coordinator: s.C.publicKey, ledger, sync, log: pino({ level: 'silent' }), metrics,
    publishCommand: async () => undefined, brokerClients: () => null,
  });
  closers.push(() => app.close());
  const call = await httpCaller(app);
  const post = (entry: string) => call({ method: 'POST', url: '/api/entries', payload: { entry } });
  /** What a refusal must leave unchanged. */
  const snapshot = () => ({ digest: ledger.digest(), count: ledger.count(), heads: ledger.heads() });
  return { ...s, broker, ledger, sync, metrics, app, post, snapshot, call };
}

/** The admin's next entry after what the ledger holds of its feed. */
function nextOf(a: Awaited<ReturnType<typeof api>>, body = memberBody('m2')) {
  const head = a.ledger.headOf(a.admin.id)!.entry;
  return nextEntry(head, 'member.put', body, a.admin.key);
}

describe('POST /api/entries', () => {
  it('stores an entry that extends its author\'s head, publishes it, and answers 201 { seq, hash }', async () => {
    const a = await api();
    const published: string[] = [];
    a.broker.onPublish((p) => published.push(p.topic));
    const next = nextOf(a);
    const r = await a.post(next.wire);
    expect(r.statusCode).toBe(201);
    expect(r.json()).toEqual({ seq: next.entry.seq, hash: next.hash });
    expect(a.ledger.member('m2')).toMatchObject({ member: 'm2' });
    expect(a.ledger.headOf(a.admin.id)!.hash).toBe(next.hash);
    expect(published).toContain(a.t.feed(a.admin.id));
    expect(published).toContain(a.t.head(a.admin.id));
    expect((await a.call({ method: 'GET', url: '/metrics' })).body).toContain('keymesh_ingest_entries_total{source="api"} 1');
  });

  it('answers a stale seq 409 STALE_HEAD with the head in the body, and stores nothing', async () => {
    const a = await api();
    const head = a.ledger.headOf(a.admin.id)!;
    const before = a.ledger.readEncoded(a.admin.id, head.seq - 1, 1)[0]!;
    // Signed after the entry before the head: the same seq as the head, another content (what a second device would do).
    const stale = nextEntry(parseEntryText(before).entry, 'member.put', memberBody('m9'), a.admin.key);
    const was = a.snapshot();
    const r = await a.post(stale.wire);
    expect(r.statusCode).toBe(409);
    expect(r.json()).toEqual({ error: { code: 'STALE_HEAD', message: expect.stringContaining('sign') }, head: { author: a.admin.id, seq: head.seq, hash: head.hash, line: head.line } });
    expect(a.snapshot()).toEqual(was);
    expect(a.ledger.forks()).toEqual([]);
    // One past the head (a gap) is stale too.
    const ahead = nextEntry(nextOf(a).entry as AnyEntry, 'member.put', memberBody('m8'), a.admin.key);
    const r2 = await a.post(ahead.wire);
    expect(r2.statusCode).toBe(409);
    expect(r2.json().head.seq).toBe(head.seq);
    expect(a.snapshot()).toEqual(was);
  });

  it('answers 409 with head null when the author has no feed here, and with the head when a feed restarts at seq 1', async () => {
    const a = await api();
    const first = nextEntry(null, 'access.decision', decisionBody(SYNC_T0), a.E, { site: a.site.site });
    const second = nextEntry(first.entry as AnyEntry, 'access.decision', decisionBody(SYNC_T0 + 1), a.E);
    const was = a.snapshot();
    const r = await a.post(second.wire);
    expect(r.statusCode).toBe(409);
    expect(r.json()).toEqual({ error: { code: 'STALE_HEAD', message: expect.any(String) }, head: null });
    const restart = nextEntry(null, 'member.put', memberBody('m3'), a.admin.key, { site: a.site.site });
    const r2 = await a.post(restart.wire);
    expect(r2.statusCode).toBe(409);
    expect(r2.json().head).toMatchObject({ seq: a.admin.feed.length });
    expect(a.snapshot()).toEqual(was);
    expect((await a.post(first.wire)).statusCode).toBe(201);
    expect((await a.post(second.wire)).statusCode).toBe(201);
  });

  it('refuses a forged signature with 422, keeps it in the quarantine, and changes nothing else', async () => {
    const a = await api();
    const next = nextOf(a);
    const sig = next.entry.sig;
    const forged = next.wire.replace(sig, (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1));
    const was = a.snapshot();
    const r = await a.post(forged);
    expect(r.statusCode).toBe(422);
    expect(r.json().error).toEqual({ code: 'BAD_SIGNATURE', message: expect.stringContaining('signature') });
    expect(a.snapshot()).toEqual(was);
    const q = (await a.call({ method: 'GET', url: '/api/quarantine' })).json().quarantine;
    expect(q).toEqual([expect.objectContaining({ code: 'BAD_SIGNATURE', author: a.admin.id, seq: next.entry.seq })]);
    // The real entry still goes through afterwards.
    expect((await a.post(next.wire)).statusCode).toBe(201);
  });

  it('refuses another site\'s entry (WRONG_SITE, quarantined) and a non-admin\'s rule entry (NO_AUTHORITY)', async () => {
    const a = await api();
    const other = new TestSite({ name: 'Another Space' });
    const foreign = nextEntry(other.genesis, 'member.put', memberBody('m1', { status: 'suspended' }), other.admins[0]!.key);
    const was = a.snapshot();
    const r = await a.post(foreign.wire);
    expect([r.statusCode, r.json().error.code]).toEqual([422, 'WRONG_SITE']);
    const outsider = nextEntry(null, 'member.put', memberBody('m1', { status: 'suspended' }), testKey(40), { site: a.site.site });
    const r2 = await a.post(outsider.wire);
    expect([r2.statusCode, r2.json().error.code]).toEqual([422, 'NO_AUTHORITY']);
    expect(a.snapshot()).toEqual(was);
    expect(a.ledger.member('m1')!.status).toBe('active');
    expect(a.ledger.quarantined().map((q) => q.code)).toEqual(['WRONG_SITE']);
    const metrics = (await a.call({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('keymesh_rejects_total{reason="WRONG_SITE"} 1');
    expect(metrics).toContain('keymesh_rejects_total{reason="NO_AUTHORITY"} 1');
  });

  it('refuses lines that are not entries (not JSON, wrong schema, not canonical) with 422', async () => {
    const a = await api();
    const next = nextOf(a);
    const was = a.snapshot();
    const cases: Array<[string, string]> = [
      ['not json at all', 'BAD_JSON'],
      ['{"v":1}', 'SCHEMA'],
      [JSON.stringify(JSON.parse(next.wire), null, 1), 'NOT_CANONICAL_BYTES'],
    ];
    for (const [line, code] of cases) {
      const r = await a.post(line);
      expect({ code, status: r.statusCode, got: r.json().error.code }).toEqual({ code, status: 422, got: code });
    }
    expect(a.snapshot()).toEqual(was);
    expect(a.ledger.quarantined().map((q) => q.code).sort()).toEqual(cases.map(([, c]) => c).sort());
    expect((await a.post('')).statusCode).toBe(400);
  });
});
