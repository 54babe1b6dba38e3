/**
 * The HTTP API's reading routes, its error model and its commands, through a listening port on a
 * real ledger file and a real PubSubSync over the in-memory broker.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { makeCommand } from '@keymesh/protocol';
import { signSync } from '@keymesh/ledger';
import { MemoryBroker } from '@keymesh/testkit/memory-broker';
import { testCard, testKey } from '@keymesh/testkit/site';
import { stopSyncPeers, syncPeer, syncSite } from '@keymesh/testkit/sync-fixtures';
import { NodeRegistry } from '../node-registry.js';
import { CoordinatorMetrics } from './metrics.js';
import { buildApi } from './server.js';
import { httpCaller } from '@keymesh/testkit/http-caller';

const closers: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await stopSyncPeers();
});

/** A coordinator's API over a ledger holding the fixture site (admin, coordinator C, edge E on `door`, member m1 with a card). */
async function api(o: { bodyLimit?: number; registry?: boolean } = {}) {
  const s = syncSite();
  const broker = new MemoryBroker();
  closers.push(() => broker.close());
  const bus = broker.client('coordinator');
  const { ledger, sync } = await syncPeer(bus, s.site.site, s.C, s.admin.feed, { relay: true });
  const metrics = new CoordinatorMetrics(ledger);
  const registry = o.registry ? new NodeRegistry(ledger, bus) : undefined;
  await registry?.start();
  closers.push(() => registry?.stop());
  const lines: string[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
  const app = await buildApi({
    site: s.site.site, siteName: 'Test Space', coordinator: s.C.publicKey, ledger, sync, log, metrics,
    ...(registry ? { registry } : {}),
    ...(o.bodyLimit ? { bodyLimit: o.bodyLimit } : {}),
    publishCommand: (node, payload) => bus.publish(s.t.cmd(node), payload, { qos: 1, retain: false }),
    brokerClients: () => 3,
  });
  closers.push(() => app.close());
  const call = await httpCaller(app);
  return { ...s, broker, bus, ledger, sync, metrics, app, lines, call };
}

describe('reading routes', () => {
  it('answers every reading route from the ledger', async () => {
    const a = await api();
    const get = async (url: string) => {
      const r = await a.call({ method: 'GET', url });
      expect({ url, status: r.statusCode }).toEqual({ url, status: 200 });
      return r.json();
    };
    expect(await get('/healthz')).toEqual({ ok: true, site: a.site.site, uptimeS: expect.any(Number) });
    expect(await get('/api/site')).toEqual({ site: a.site.site, name: 'Test Space', coordinator: a.C.publicKey, now: expect.any(Number) });
    const nodes = (await get('/api/nodes')).nodes as Array<{ node: string; role: string; resources: string[] }>;
    expect(nodes.find((n) => n.node === a.E.publicKey)).toMatchObject({ role: 'edge', resources: ['door'] });
    expect((await get('/api/members')).members.map((m: { member: string }) => m.member)).toEqual(['m1']);
    expect((await get('/api/members?q=M1')).members).toHaveLength(1);
    expect((await get('/api/members?q=nobody')).members).toEqual([]);
    const m1 = await get('/api/members/m1');
    expect(m1.member).toMatchObject({ member: 'm1', status: 'active' });
    expect(m1.cards).toEqual([{ card: testCard('04a1b2c3'), state: 'bound', member: 'm1' }]);
    expect(m1).toMatchObject({ certifications: [], recent: [] });
    expect((await get('/api/cards')).cards).toEqual([{ card: testCard('04a1b2c3'), state: 'bound', member: 'm1' }]);
    expect((await get('/api/resources')).resources).toEqual([expect.objectContaining({ resource: 'door', kind: 'door', lockout: 'lifted' })]);
    expect(await get('/api/lockouts')).toEqual({ lockouts: [] });
    expect(await get('/api/certifications?member=m1&resource=door')).toEqual({ certifications: [] });
    expect(await get('/api/log')).toEqual({ rows: [], next: null });
    expect(await get('/api/conflicts')).toEqual({ conflicts: [] });
    expect(await get('/api/forks')).toEqual({ forks: [] });
    expect(await get('/api/alarms')).toEqual({ alarms: [] });
    expect(await get('/api/quarantine?limit=5')).toEqual({ quarantine: [] });
    expect((await a.call({ method: 'GET', url: '/api/members/nobody' })).statusCode).toBe(404);
  });

  it('lists certifications by member and resource, and lockouts', async () => {
    const a = await api();
    a.ledger.append(a.admin.key, 'cert.grant', { member: 'm1', cert: 'door', grantedBy: null, note: '' });
    a.ledger.append(a.admin.key, 'resource.lockout', { resource: 'door', state: 'when_idle', by: null, reason: 'repair' });
    const get = async (url: string) => (await a.call({ method: 'GET', url })).json();
    const cert = { member: 'm1', cert: 'door', granted: true, by: null };
    expect(await get('/api/certifications')).toEqual({ certifications: [cert] });
    expect(await get('/api/certifications?member=m1&resource=door')).toEqual({ certifications: [cert] });
    expect(await get('/api/certifications?resource=laser')).toEqual({ certifications: [] });
    expect(await get('/api/certifications?member=m2')).toEqual({ certifications: [] });
    expect((await get('/api/members/m1')).certifications).toEqual([cert]);
    expect(await get('/api/lockouts')).toEqual({ lockouts: [{ resource: 'door', state: 'when_idle', by: null, reason: 'repair' }] });
    expect((await get('/api/resources')).resources[0].lockout).toBe('when_idle');
  });

  it('a card number never appears, only its reference', async () => {
    const a = await api();
    for (const url of ['/api/cards', '/api/members/m1', '/api/policy/' + encodeURIComponent(`card/${testCard('04a1b2c3')}`)]) {
      const r = await a.call({ method: 'GET', url });
      expect(r.statusCode).toBe(200);
      expect(r.body).toContain(testCard('04a1b2c3'));
      expect(r.body.toLowerCase()).not.toContain('04a1b2c3');
    }
  });

  it('serves a policy register with its heads, and a feed head with its signed line', async () => {
    const a = await api();
    const r = await a.call({ method: 'GET', url: '/api/policy/member%2Fm1' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ key: 'member/m1', ...a.ledger.materialised()['member/m1'] });
    expect((await a.call({ method: 'GET', url: '/api/policy/member%2Fnobody' })).statusCode).toBe(404);
    const head = a.ledger.headOf(a.admin.id)!;
    const h = await a.call({ method: 'GET', url: `/api/feeds/${a.admin.id}/head` });
    expect(h.json()).toEqual({ author: a.admin.id, seq: head.seq, hash: head.hash, line: head.line });
    const none = await a.call({ method: 'GET', url: `/api/feeds/${testKey(77).publicKey}/head` });
    expect(none.statusCode).toBe(404);
    expect(none.json().error.code).toBe('NOT_FOUND');
  });

  it('pages the access log with the ledger cursor and filters it', async () => {
    const a = await api();
    const door = a.E;
    const at = 1_700_000_100_000;
    a.ledger.appendMany(door, Array.from({ length: 5 }, (_, i) => ({
      type: 'access.decision' as const,
      body: { resource: 'door', credential: { kind: 'card' as const, card: testCard('04a1b2c3') }, allow: i % 2 === 0, reason: i % 2 === 0 ? 'ALLOWED' : 'UNKNOWN_CARD', member: i % 2 === 0 ? 'm1' : null, at: at + i },
    })));
    const first = (await a.call({ method: 'GET', url: '/api/log?limit=2' })).json();
    expect(first.rows.map((r: { at: number }) => r.at)).toEqual([at + 4, at + 3]);
    expect(first.next).toEqual(expect.any(String));
    const second = (await a.call({ method: 'GET', url: `/api/log?limit=2&before=${encodeURIComponent(first.next)}` })).json();
    expect(second.rows.map((r: { at: number }) => r.at)).toEqual([at + 2, at + 1]);
    const denied = (await a.call({ method: 'GET', url: '/api/log?allow=false&resource=door' })).json();
    expect(denied.rows.map((r: { at: number }) => r.at)).toEqual([at + 3, at + 1]);
    const m1 = (await a.call({ method: 'GET', url: '/api/log?member=m1&limit=10' })).json();
    expect(m1.rows).toHaveLength(3);
    expect((await a.call({ method: 'GET', url: '/api/members/m1' })).json().recent).toHaveLength(3);
  });

  it('reports status: nodes heard through their signed statuses, and the site\'s problems', async () => {
    const a = await api({ registry: true });
    const edgeBus = a.broker.client('edge');
    const now = Date.now();
    const status = signSync({ node: a.E.publicKey, online: true, versions: {}, head: 4, acked: 1, rulesFreshAt: now - 5000, rulesAgeMs: 5000, syncLag: 0, heldForNewerVersion: 2, at: now }, a.E);
    await edgeBus.publish(a.t.status(a.E.publicKey), Buffer.from(JSON.stringify(status)), { qos: 1, retain: true });
    await a.broker.settle();
    const r = (await a.call({ method: 'GET', url: '/api/status' })).json();
    expect(r).toMatchObject({ site: a.site.site, name: 'Test Space', conflicts: 0, forks: 0, quarantine: 0, held: 0 });
    const e = r.nodes.find((n: { key: string }) => n.key === a.E.publicKey);
    expect(e).toMatchObject({ role: 'edge', online: true, ackedLag: 3, heldForNewerVersion: 2 });
    expect(e.rulesAgeS).toBeGreaterThanOrEqual(5);
    expect(r.nodes.find((n: { key: string }) => n.key === a.D.publicKey)).toMatchObject({ online: false, lastSeen: null, rulesAgeS: null });
    expect(r.nodes.find((n: { key: string }) => n.key === a.C.publicKey)).toMatchObject({ role: 'coordinator', online: true });
    const metrics = (await a.call({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(new RegExp(`keymesh_node_lag_entries\\{node="${a.E.publicKey}"\\} 4`));
    expect(metrics).toMatch(new RegExp(`keymesh_rules_age_seconds\\{node="${a.E.publicKey}"\\} \\d+`));
  });
});

describe('metrics and health', () => {
  it('/metrics carries the named metrics from its own registry', async () => {
    const a = await api();
    a.metrics.onIngest({ accepted: 3, duplicates: 0, waiting: 0, dropped: 0, rejected: [{ author: null, seq: null, code: 'BAD_SIGNATURE', reason: 'x' }], forks: [], changed: [] });
    a.metrics.onInvalid('have from x is not signed by it', `${a.t.root}/sync/abc/have`);
    const r = await a.call({ method: 'GET', url: '/metrics' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('text/plain');
    for (const line of [
      'keymesh_ingest_entries_total{source="bus"} 3',
      'keymesh_rejects_total{reason="BAD_SIGNATURE"} 1',
      'keymesh_rejects_total{reason="INVALID_HAVE"} 1',
      'keymesh_connected_clients 3',
      `keymesh_node_lag_entries{node="${a.E.publicKey}"} 0`,
      '# TYPE keymesh_rules_age_seconds gauge',
      'process_cpu_user_seconds_total',
    ]) expect(r.body).toContain(line);
    expect(r.body).not.toContain(`keymesh_node_lag_entries{node="${a.C.publicKey}"}`);
  });

  it('/healthz answers 503 once the ledger is closed, and other routes 503 LEDGER_CLOSED', async () => {
    const a = await api();
    await a.sync.stop();
    a.ledger.close();
    const r = await a.call({ method: 'GET', url: '/healthz' });
    expect(r.statusCode).toBe(503);
    expect(r.json()).toMatchObject({ ok: false, site: a.site.site, error: { code: 'LEDGER_CLOSED' } });
    for (const url of ['/api/members', '/api/log', '/api/quarantine']) {
      const x = await a.call({ method: 'GET', url });
      expect({ url, status: x.statusCode, code: x.json().error.code }).toEqual({ url, status: 503, code: 'LEDGER_CLOSED' });
    }
    const post = await a.call({ method: 'POST', url: '/api/entries', payload: { entry: 'x' } });
    expect([post.statusCode, post.json().error.code]).toEqual([503, 'LEDGER_CLOSED']);
  });
});

describe('bad requests', () => {
  it('refuses an unknown query field or a bad value with 400 naming the field', async () => {
    const a = await api();
    const cases: Array<[string, string]> = [
      ['/api/members?x=1', '"x"'],
      ['/api/log?limit=0', '"limit"'],
      ['/api/log?limit=abc', '"limit"'],
      ['/api/log?allow=maybe', '"allow"'],
      ['/api/log?before=nope', '"before"'],
      ['/api/log?member=m1&member=m2', '"member"'],
      ['/api/quarantine?limit=100000', '"limit"'],
      ['/api/certifications?resource=%20bad', '"resource"'],
      ['/healthz?verbose=1', '"verbose"'],
      ['/api/feeds/zz/head', '"author"'],
      ['/api/policy/..%2F..', '"key"'],
    ];
    for (const [url, field] of cases) {
      const r = await a.call({ method: 'GET', url });
      expect({ url, status: r.statusCode, code: r.json().error.code }).toEqual({ url, status: 400, code: 'BAD_REQUEST' });
      expect(r.json().error.message).toContain(field);
    }
  });

  it('answers malformed JSON 400, an oversized body 413, an unknown route 404, and keeps serving', async () => {
    const a = await api({ bodyLimit: 4096 });
    const bad = await a.call({ method: 'POST', url: '/api/entries', headers: { 'content-type': 'application/json' }, payload: '{"entry": ' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('BAD_REQUEST');
    const poisoned = await a.call({ method: 'POST', url: '/api/entries', headers: { 'content-type': 'application/json' }, payload: '{"entry":"x","__proto__":{"a":1}}' });
    expect(poisoned.statusCode).toBe(400);
    const big = await a.call({ method: 'POST', url: '/api/entries', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ entry: 'x'.repeat(5000) }) });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toEqual({ error: { code: 'TOO_LARGE', message: expect.any(String) } });
    const text = await a.call({ method: 'POST', url: '/api/entries', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    expect(text.statusCode).toBe(400);
    const extra = await a.call({ method: 'POST', url: '/api/entries', payload: { entry: 'x', also: 1 } });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().error.message).toContain('"also"');
    const nowhere = await a.call({ method: 'GET', url: '/api/nowhere?secret=1' });
    expect(nowhere.statusCode).toBe(404);
    expect(nowhere.json().error).toEqual({ code: 'NOT_FOUND', message: expect.not.stringContaining('secret') });
    expect((await a.call({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('uses the default body limit of 256 KiB', async () => {
    const a = await api();
    const r = await a.call({ method: 'POST', url: '/api/entries', payload: { entry: 'x'.repeat(300 * 1024) } });
    expect(r.statusCode).toBe(413);
  });
});

describe('POST /api/commands', () => {
  it('publishes an admin\'s command for an enrolled node on its cmd topic, not retained, once', async () => {
    const a = await api();
    const heard: Array<{ payload: string; retain: boolean }> = [];
    const edge = a.broker.client('edge');
    await edge.subscribe(a.t.cmd(a.E.publicKey), (m) => heard.push({ payload: Buffer.from(m.payload).toString(), retain: m.retain }));
    const cmd = makeCommand({ site: a.site.site, node: a.E.publicKey, resource: 'door' }, a.admin.key);
    const r = await a.call({ method: 'POST', url: '/api/commands', payload: { command: cmd } });
    expect(r.statusCode).toBe(202);
    expect(r.json()).toEqual({ id: cmd.id, node: a.E.publicKey, expiresAt: cmd.expiresAt });
    await a.broker.settle();
    expect(heard).toHaveLength(1);
    expect(JSON.parse(heard[0]!.payload)).toEqual(cmd);
    expect(heard[0]!.retain).toBe(false);
    const again = await a.call({ method: 'POST', url: '/api/commands', payload: { command: cmd } });
    expect([again.statusCode, again.json().error.code]).toEqual([422, 'REPLAYED']);
    await a.broker.settle();
    expect(heard).toHaveLength(1);
  });

  it('refuses a command from a non-admin, for an unknown node, expired or forged, and publishes nothing', async () => {
    const a = await api();
    const published: string[] = [];
    a.broker.onPublish((p) => p.topic.includes('/cmd/') && published.push(p.topic));
    const site = a.site.site;
    const cases: Array<[unknown, string]> = [
      [makeCommand({ site, node: a.E.publicKey, resource: 'door' }, testKey(40)), 'NOT_ADMIN'],
      [makeCommand({ site, node: testKey(78).publicKey, resource: 'door' }, a.admin.key), 'WRONG_RESOURCE'],
      [makeCommand({ site, node: a.E.publicKey, resource: 'laser' }, a.admin.key), 'WRONG_RESOURCE'],
      [makeCommand({ site, node: a.E.publicKey, resource: 'door', issuedAt: Date.now() - 120_000 }, a.admin.key), 'EXPIRED'],
      [{ ...makeCommand({ site, node: a.E.publicKey, resource: 'door' }, a.admin.key), resource: 'door2' }, 'WRONG_RESOURCE'],
      [{ ...makeCommand({ site, node: a.E.publicKey, resource: 'door' }, a.admin.key), sig: 'ab'.repeat(64) }, 'BAD_SIGNATURE'],
      [makeCommand({ site: 'aa'.repeat(32), node: a.E.publicKey, resource: 'door' }, a.admin.key), 'WRONG_SITE'],
      [{ action: 'unlock' }, 'SCHEMA'],
    ];
    for (const [command, code] of cases) {
      const r = await a.call({ method: 'POST', url: '/api/commands', payload: { command } });
      expect({ code, status: r.statusCode, got: r.json().error.code }).toEqual({ code, status: 422, got: code });
    }
    expect((await a.call({ method: 'POST', url: '/api/commands', payload: { command: 'unlock' } })).statusCode).toBe(400);
    await a.broker.settle();
    expect(published).toEqual([]);
    expect(a.lines.some((l) => l.includes('"code":"NOT_ADMIN"'))).toBe(true);
    expect((await a.call({ method: 'GET', url: '/metrics' })).body).toContain('keymesh_rejects_total{reason="NOT_ADMIN"} 1');
  });
});
