/** ApiClient against the API listening on a real port, and against no server at all. */
import { afterAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { makeCommand, nextEntry, parseEntryText } from '@keymesh/protocol';
import { MemoryBroker } from '@keymesh/testkit/memory-broker';
import { memberBody, testKey } from '@keymesh/testkit/site';
import { stopSyncPeers, syncPeer, syncSite } from '@keymesh/testkit/sync-fixtures';
import { ApiClient } from './client.js';
import { CoordinatorMetrics } from './metrics.js';
import { buildApi } from './server.js';

const closers: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await stopSyncPeers();
});

async function served() {
  const s = syncSite();
  const broker = new MemoryBroker();
  closers.push(() => broker.close());
  const bus = broker.client('coordinator');
  const { ledger, sync } = await syncPeer(bus, s.site.site, s.C, s.admin.feed, { relay: true });
  const commands: string[] = [];
  const app = await buildApi({
    site: s.site.site, siteName: 'Client Space', coordinator: s.C.publicKey, ledger, sync, log: pino({ level: 'silent' }),
    metrics: new CoordinatorMetrics(ledger, { defaultMetrics: false }),
    publishCommand: async (node) => void commands.push(node), brokerClients: () => null,
  });
  closers.push(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const client = new ApiClient(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/`);
  return { ...s, ledger, client, commands };
}

describe('ApiClient', () => {
  it('reads the site, heads, policy, log and status, and posts entries and commands', async () => {
    const a = await served();
    expect(await a.client.site()).toEqual({ site: a.site.site, name: 'Client Space', coordinator: a.C.publicKey, now: expect.any(Number) });
    const head = await a.client.head(a.admin.id);
    expect(head).toEqual({ author: a.admin.id, seq: a.admin.feed.length, hash: expect.any(String), line: expect.any(String) });
    expect(await a.client.head(testKey(77).publicKey)).toBeNull();
    expect(await a.client.policy('member/m1')).toEqual({ key: 'member/m1', ...a.ledger.materialised()['member/m1'] });
    expect(await a.client.policy('member/nobody')).toBeNull();

    // Signed as an admin tool does: after the feed's head, naming the register's heads in deps.
    const deps = (await a.client.policy('member/m1'))!.heads;
    const next = nextEntry(parseEntryText(head!.line).entry, 'member.put', memberBody('m1', { status: 'suspended' }), a.admin.key, { deps });
    expect(await a.client.postEntry(next.wire)).toEqual({ ok: true, seq: next.entry.seq, hash: next.hash });
    expect(a.ledger.member('m1')!.status).toBe('suspended');
    const stale = await a.client.postEntry(next.wire);
    expect(stale).toEqual({ ok: false, status: 409, code: 'STALE_HEAD', message: expect.any(String), head: { author: a.admin.id, seq: next.entry.seq, hash: next.hash, line: next.wire } });
    const refused = await a.client.postEntry('not an entry');
    expect(refused).toMatchObject({ ok: false, status: 422, code: 'BAD_JSON' });

    const cmd = makeCommand({ site: a.site.site, node: a.E.publicKey, resource: 'door' }, a.admin.key);
    expect(await a.client.postCommand(cmd)).toEqual({ ok: true, id: cmd.id, node: a.E.publicKey, expiresAt: cmd.expiresAt });
    expect(a.commands).toEqual([a.E.publicKey]);
    const bad = makeCommand({ site: a.site.site, node: a.E.publicKey, resource: 'door' }, testKey(40));
    expect(await a.client.postCommand(bad)).toMatchObject({ ok: false, status: 422, code: 'NOT_ADMIN' });

    expect(await a.client.log({ member: 'm1', limit: 10 })).toEqual({ rows: [], next: null });
    const status = await a.client.status();
    expect(status).toMatchObject({ site: a.site.site, name: 'Client Space', conflicts: 0, quarantine: 1 });
  });

  it('raises API_ERROR with the server\'s code for a refused read', async () => {
    const a = await served();
    await expect(a.client.log({ limit: 0 })).rejects.toMatchObject({ code: 'API_ERROR', message: expect.stringContaining('"limit"') });
  });

  it('raises SERVER_UNREACHABLE when nothing listens, and API_ERROR when something else answers', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(new ApiClient(`http://127.0.0.1:${port}`).site()).rejects.toMatchObject({ code: 'SERVER_UNREACHABLE', message: expect.stringContaining('keymesh serve') });

    const other = createServer((_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => other.close(r)));
    const client = new ApiClient(`http://127.0.0.1:${(other.address() as AddressInfo).port}`);
    await expect(client.status()).rejects.toMatchObject({ code: 'API_ERROR', message: expect.stringContaining('no JSON') });
    expect(() => new ApiClient('not a url')).toThrow(expect.objectContaining({ code: 'BAD_CONFIG' }));
  });
});
