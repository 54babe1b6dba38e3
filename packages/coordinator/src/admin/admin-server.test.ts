// The admin commands, log and status while `keymesh serve` runs for the data folder: a real
// Coordinator (embedded broker, fastify API) on ephemeral ports in this process; the commands
// find it by its serve.json and go through its HTTP API, never opening its ledger file.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { nextEntry, type AnyEntry } from '@keymesh/protocol';
import { testKey } from '@keymesh/testkit/site';
import { tempDir } from '@keymesh/testkit/temp-files';
import { Coordinator } from '../coordinator.js';
import { dataPaths, runningServer } from '../data-dir.js';
import { readKeyFile, writeKeyFile } from '../files.js';
import { runCaptured, type Captured } from './run-captured.js';
import { ApiClient } from '../http/client.js';
import { serverTarget } from './target.js';
import { signAndSubmit } from './writer.js';

const km = (...argv: string[]): Promise<Captured> => runCaptured(argv);

let c: Coordinator;
let data: string;
let keyFile: string;
let site: string;
const a = (...argv: string[]) => km(...argv, '--data', data, '--key', keyFile);

beforeAll(async () => {
  const root = tempDir('keymesh-admin-srv-');
  data = join(root, 'data');
  const init = await km('init', '--site', 'Served space', '--data', data, '--keys', join(root, 'keys'), '--json');
  expect(init.code).toBe(0);
  ({ dailyAdminKey: keyFile, site } = JSON.parse(init.out) as { dailyAdminKey: string; site: string });
  c = await Coordinator.start({ data, mqttPort: 0, httpPort: 0, host: '127.0.0.1', log: pino({ level: 'silent' }) });
});

afterAll(async () => {
  await c?.stop();
});

describe('admin commands through a running server', () => {
  it('finds the server by its record and submits there', async () => {
    expect(runningServer(dataPaths(data))?.http).toBe(`http://127.0.0.1:${c.httpPort}`);
    const r = await a('member', 'add', 'ada', '--name', 'Ada', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, type: 'member.put', via: `http://127.0.0.1:${c.httpPort}` });
    expect(c.ledger.member('ada')).toMatchObject({ name: 'Ada', status: 'active' });
    expect((await a('member', 'suspend', 'ada')).code).toBe(0);
    expect(c.ledger.member('ada')?.status).toBe('suspended');
  });

  it('card bind: the reference goes to the server, the number nowhere', async () => {
    expect((await a('member', 'add', 'bob', '--name', 'Bob')).code).toBe(0);
    const r = await a('card', 'bind', '2882400018', '--form', 'decimal', '--member', 'bob', '--json'); // 0xabcdef12
    expect(r.code).toBe(0);
    const ref = (JSON.parse(r.out) as { card: string }).card;
    expect(c.ledger.memberByCard(ref).card).toEqual({ card: ref, state: 'bound', member: 'bob' });
    const hex = await a('card', 'bind', 'ab cd ef 12', '--member', 'bob', '--json');
    expect((JSON.parse(hex.out) as { card: string }).card).toBe(ref);
    c.ledger.flush();
    const stored = readdirSync(data).map((f) => readFileSync(join(data, f)).toString('latin1')).join('\n').toLowerCase();
    for (const spelling of ['2882400018', 'abcdef12']) {
      expect(stored.includes(spelling)).toBe(false);
      expect((r.out + r.err + hex.out + hex.err).toLowerCase().includes(spelling)).toBe(false);
    }
  });

  it('a stale head (another device signed first) is refused with 409 and the head; nothing is signed twice', async () => {
    const key = readKeyFile(keyFile);
    const api = new ApiClient(`http://127.0.0.1:${c.httpPort}`);
    const target = serverTarget(api, api.base);
    let raced = false;
    const realHead = target.head;
    target.head = async (author) => {
      const h = await realHead(author);
      if (!raced) {
        raced = true; // the other device: signs after the same head and gets there first
        const other = nextEntry(JSON.parse(h!.line) as AnyEntry, 'member.put', { member: 'zed', name: 'Zed', contact: '', status: 'active', validUntil: null, keys: [], trainerFor: [] }, key, { site });
        expect(await api.postEntry(other.wire)).toMatchObject({ ok: true });
      }
      return h;
    };
    const before = (await api.head(key.publicKey))!.seq;
    await expect(signAndSubmit(target, key, site, 'member.put', { member: 'cy', name: 'Cy', contact: '', status: 'active', validUntil: null, keys: [], trainerFor: [] }, ['member/cy']))
      .rejects.toMatchObject({ code: 'STALE_HEAD', message: expect.stringContaining(`now holds seq ${before + 1}`) });
    expect((await api.head(key.publicKey))!.seq).toBe(before + 1);
    expect(c.ledger.member('cy')).toBeUndefined();
    expect(c.ledger.forks()).toEqual([]);
  });

  it('unlock goes to the server as a signed command; log and status read the API', async () => {
    const edge = testKey(711);
    expect((await a('resource', 'add', 'front', '--name', 'Front door', '--kind', 'door')).code).toBe(0);
    // The edge's enrolment and its decisions, written as the coordinator would receive them.
    c.ledger.appendMany(readKeyFile(keyFile), [{ type: 'node.enrol', body: { node: edge.publicKey, name: 'front-pi', role: 'edge', resources: ['front'] } }]);
    c.ledger.appendMany(edge, [
      { type: 'access.decision', body: { resource: 'front', credential: { kind: 'card', card: '12'.repeat(16) }, allow: false, reason: 'MEMBER_SUSPENDED', member: 'ada', at: Date.now() - 1000 } },
    ]);
    const u = await a('unlock', edge.publicKey, '--json');
    expect(u.code).toBe(0);
    expect(JSON.parse(u.out)).toMatchObject({ ok: true, node: edge.publicKey, resource: 'front' });

    // Refused before anything is signed: a node not enrolled, a resource the node does not control.
    const unknown = await a('unlock', testKey(712).publicKey);
    expect(unknown).toMatchObject({ code: 1, err: expect.stringContaining('not enrolled') });
    const other = await a('unlock', edge.publicKey, '--resource', 'laser');
    expect(other).toMatchObject({ code: 2, err: expect.stringContaining('controls front') });
    // Refused by the server: the signer is not an admin.
    const notAdmin = join(tempDir('keymesh-admin-srv-key-'), 'x.key');
    writeKeyFile(notAdmin, testKey(713), 'not an admin');
    const refused = await km('unlock', edge.publicKey, '--data', data, '--key', notAdmin);
    expect(refused).toMatchObject({ code: 1, err: expect.stringContaining('NOT_ADMIN') });

    const log = await km('log', '--json', '--data', data);
    expect(log.code).toBe(0);
    expect((JSON.parse(log.out) as { source: string; rows: Array<{ member: string; allow: boolean }> })).toMatchObject({
      source: `http://127.0.0.1:${c.httpPort}`, rows: [{ member: 'ada', allow: false }],
    });
    expect((await km('log', '--data', data)).out).toMatch(/ada\s+front\s+deny\s+membership is suspended/);

    const st = await km('status', '--json', '--data', data);
    expect(st.code).toBe(0);
    const rep = JSON.parse(st.out) as { live: boolean; nodes: Array<{ name: string; online: boolean | null }> };
    expect(rep.live).toBe(true);
    expect(rep.nodes.find((n) => n.name === 'coordinator')?.online).toBe(true);
    expect(rep.nodes.find((n) => n.name === 'front-pi')?.online).not.toBe(true); // never heard from
  });
});
