// A node and `keymesh serve` (a real process, embedded broker): the node, seeded only with the
// provisioning file's genesis, receives the site's rules; the coordinator stores the node's
// access decisions (GET /api/log); a rule added with `keymesh member add` while serving reaches
// the node; the node's signed status shows it online (/api/status, /api/nodes), and its Last
// Will offline.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProvisioningFile } from '@keymesh/protocol';
import { KEYMESH_BIN, eventually, exited, jsonFileWhenReady, keymesh, start, stopAll } from '@keymesh/testkit/processes';
import { startMqttNode, type MqttNode } from './mqtt-node.js';

const dir = mkdtempSync(join(tmpdir(), 'km-node-sync-'));
const data = join(dir, 'data');
const env = { XDG_CONFIG_HOME: join(dir, 'config') };
let node: MqttNode | undefined;
afterAll(async () => {
  await node?.close();
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

async function ok(args: string[]): Promise<string> {
  const r = await keymesh([...args, '--data', data], { env });
  if (r.code !== 0) throw new Error(`keymesh ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

interface StatusRow { key: string; online: boolean | null; lastSeen: number | null }

test('a node syncs with keymesh serve: rules down, decisions up, a new rule live, online then offline by its Last Will', async () => {
  const init = JSON.parse(await ok(['init', '--site', 'Node Sync Space', '--keys', join(dir, 'keys'), '--json'])) as { site: string; dailyAdminKey: string; dailyAdmin: string };
  const admin = ['--key', init.dailyAdminKey];
  await ok(['resource', 'add', 'front-door', '--name', 'Front door', '--kind', 'door', ...admin]);
  await ok(['node', 'enrol', 'front-door-pi', '--kind', 'door', '--resource', 'front-door', '--out', join(dir, 'pi.json'), ...admin]);
  const prov = ProvisioningFile.parse(JSON.parse(readFileSync(join(dir, 'pi.json'), 'utf8')));

  rmSync(join(data, 'serve.json'), { force: true });
  const server = start(process.execPath, [KEYMESH_BIN, 'serve', '--data', data, '--mqtt-port', '0', '--http-port', '0', '--host', '127.0.0.1'], { env });
  const rec = await jsonFileWhenReady<{ http: string; mqtt: string }>(join(data, 'serve.json'));
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${rec.http}${path}`);
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const adminHead = async () => (await api<{ seq: number }>(`/api/feeds/${init.dailyAdmin}/head`)).seq;

  node = await startMqttNode({ prov, url: rec.mqtt, dir });
  const n = node;

  // Rules down: the admin feed (resource, coordinator's and node's enrolment) as the coordinator holds it.
  const held = await adminHead();
  expect(held).toBeGreaterThanOrEqual(4);
  await eventually('the node to hold the admin feed', () => (n.ledger.heads()[init.dailyAdmin] === held ? true : undefined));
  expect(n.ledger.nodes().map((x) => x.node)).toContain(n.key.publicKey);
  expect(n.ledger.policy.resource('front-door')).toBeDefined();

  // Decisions up: stored by the coordinator and in its access log.
  n.decide('front-door', 6);
  const log = await eventually('the coordinator to log the decisions', async () => {
    const r = await api<{ rows: Array<{ resource: string; allow: boolean; member: string | null }> }>('/api/log?resource=front-door');
    return r.rows.length === 6 ? r.rows : undefined;
  });
  expect(log.filter((r) => r.allow)).toHaveLength(3);
  expect(log.filter((r) => r.member === 'ada')).toHaveLength(3);
  const nodes = await api<{ nodes: Array<{ node: string; head: number }> }>('/api/nodes');
  expect(nodes.nodes.find((x) => x.node === n.key.publicKey)?.head).toBe(6);
  await eventually('the coordinator to acknowledge the feed', () => (n.sync.acknowledged === 6 ? true : undefined));

  // A rule added while serving reaches the node live.
  await ok(['member', 'add', 'grace', '--name', 'Grace Hopper', ...admin]);
  const after = await adminHead();
  expect(after).toBe(held + 1);
  await eventually('the new member to reach the node', () => (n.ledger.heads()[init.dailyAdmin] === after ? true : undefined), 5000);
  expect(n.ledger.policy.member('grace')).toMatchObject({ name: 'Grace Hopper', status: 'active' });

  // Online by its signed status; offline by its Last Will once its connection is cut.
  const row = async () => (await api<{ nodes: StatusRow[] }>('/api/status')).nodes.find((x) => x.key === n.key.publicKey);
  const listed = async () => (await api<{ nodes: Array<{ node: string; online: boolean | null; lastSeen: number | null }> }>('/api/nodes')).nodes.find((x) => x.node === n.key.publicKey);
  await eventually('the node online in /api/status', async () => ((await row())?.online === true ? true : undefined));
  expect((await row())?.lastSeen).toEqual(expect.any(Number));
  expect(await listed()).toMatchObject({ online: true, lastSeen: expect.any(Number) });
  n.drop();
  await eventually('the node offline in /api/status', async () => ((await row())?.online === false ? true : undefined), 10_000);
  expect(await listed()).toMatchObject({ online: false });

  server.kill('SIGTERM');
  expect((await exited(server)).code).toBe(0);
}, 60_000);
