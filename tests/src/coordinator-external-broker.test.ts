// A site on Debian's Mosquitto (DESIGN §11): `keymesh broker mosquitto-conf` writes its files,
// `keymesh serve --broker URL` is a client of it, and a node provisioned with `--external`
// logs in with the file's username and password and syncs as on the embedded broker (rules
// down, decisions up, a rule added while serving, online by its status, offline by its Last Will).
// Mosquitto refuses anonymous clients and wrong passwords, and its ACL withholds a node's
// publish on another node's feed (the coordinator would store it: the entry is validly signed).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ProvisioningFile, fromHex, keyPairFromSeed, nextEntry, topics } from '@keymesh/protocol';
import { KEYMESH_BIN, eventually, exited, jsonFileWhenReady, keymesh, start, stopAll } from '@keymesh/testkit/processes';
import { MOSQUITTO_SUB, freePort, runClient, startMosquitto, type MosquittoHandle } from '@keymesh/testkit/mosquitto';
import { startMqttNode, type MqttNode } from './mqtt-node.js';

const dir = mkdtempSync(join(tmpdir(), 'km-external-'));
const data = join(dir, 'data');
const env = { XDG_CONFIG_HOME: join(dir, 'config') };
let mosquitto: MosquittoHandle | undefined;
let node: MqttNode | undefined;
afterAll(async () => {
  await node?.close();
  await stopAll();
  await mosquitto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function ok(args: string[]): Promise<string> {
  const r = await keymesh([...args, '--data', data], { env });
  if (r.code !== 0) throw new Error(`keymesh ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

test('keymesh serve --broker on Mosquitto: a node with --external credentials syncs; Mosquitto refuses strangers and cross-feed publishes', async () => {
  const port = await freePort();
  const url = `mqtt://127.0.0.1:${port}`;
  const init = JSON.parse(await ok(['init', '--site', 'External Space', '--keys', join(dir, 'keys'), '--json'])) as { site: string; dailyAdminKey: string; dailyAdmin: string };
  const admin = ['--key', init.dailyAdminKey];
  await ok(['resource', 'add', 'front-door', '--name', 'Front door', '--kind', 'door', ...admin]);
  await ok(['resource', 'add', 'back-door', '--name', 'Back door', '--kind', 'door', ...admin]);
  await ok(['node', 'enrol', 'front-pi', '--kind', 'door', '--resource', 'front-door', '--external', '--broker', url, '--out', join(dir, 'front.json'), ...admin]);
  await ok(['node', 'enrol', 'back-pi', '--kind', 'door', '--resource', 'back-door', '--external', '--broker', url, '--out', join(dir, 'back.json'), ...admin]);
  const prov = ProvisioningFile.parse(JSON.parse(readFileSync(join(dir, 'front.json'), 'utf8')));
  const back = ProvisioningFile.parse(JSON.parse(readFileSync(join(dir, 'back.json'), 'utf8')));
  expect(prov.broker).toMatchObject({ url, username: prov.node.key, password: expect.any(String) });

  const out = join(dir, 'mosquitto');
  await ok(['broker', 'mosquitto-conf', '--out', out, '--port', String(port), '--host', '127.0.0.1']);
  // Started as root, mosquitto drops to the user `mosquitto`, which may not read our 0600 files: keep it as us.
  const conf = join(dir, 'test-mosquitto.conf');
  writeFileSync(conf, readFileSync(join(out, 'mosquitto.conf'), 'utf8') + `user ${userInfo().username}\n`);
  mosquitto = await startMosquitto(conf, port);

  rmSync(join(data, 'serve.json'), { force: true });
  const server = start(process.execPath, [KEYMESH_BIN, 'serve', '--data', data, '--broker', url, '--http-port', '0', '--host', '127.0.0.1'], { env });
  const rec = await jsonFileWhenReady<{ http: string; mqtt: string | null }>(join(data, 'serve.json'));
  expect(rec.mqtt).toBe(url);
  const api = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${rec.http}${path}`);
    return { status: res.status, body: (await res.json()) as T };
  };
  const headOf = async (author: string) => {
    const r = await api<{ seq: number }>(`/api/feeds/${author}/head`);
    return r.status === 404 ? 0 : r.body.seq;
  };

  // The node syncs as on the embedded broker: rules down, decisions up.
  node = await startMqttNode({ prov, dir });
  const n = node;
  const held = await headOf(init.dailyAdmin);
  await eventually('the node to hold the admin feed', () => (n.ledger.heads()[init.dailyAdmin] === held ? true : undefined));
  expect(n.ledger.policy.node(back.node.key!)).toBeDefined();
  n.decide('front-door', 4);
  await eventually('the coordinator to hold the decisions', async () => ((await headOf(n.key.publicKey)) === 4 ? true : undefined));
  expect((await api<{ rows: unknown[] }>('/api/log?resource=front-door')).body.rows).toHaveLength(4);
  // A rule added while serving reaches it live; its signed status and Last Will pass through Mosquitto.
  await ok(['member', 'add', 'grace', '--name', 'Grace Hopper', ...admin]);
  await eventually('the new member to reach the node', () => (n.ledger.policy.member('grace') ? true : undefined), 5000);
  const online = async () => (await api<{ nodes: Array<{ key: string; online: boolean | null }> }>('/api/status')).body.nodes.find((x) => x.key === n.key.publicKey)?.online;
  await eventually('the node online', async () => ((await online()) === true ? true : undefined));

  // Strangers are refused by Mosquitto.
  const t = topics(init.site);
  const sub = (...a: string[]) => runClient(MOSQUITTO_SUB, ['-h', '127.0.0.1', '-p', String(port), '-V', 'mqttv311', ...a, '-t', t.filters.heads, '-C', '1', '-W', '5']);
  const refused = (r: { code: number | null; stderr: string }) => r.code !== 0 && /not authori[sz]ed/i.test(r.stderr);
  expect(refused(await sub())).toBe(true);
  expect(refused(await sub('-u', prov.node.key!, '-P', back.broker.password!))).toBe(true);
  // The right password is served (so the two refusals above are about the credentials).
  const served = await sub('-u', back.node.key!, '-P', back.broker.password!, '-i', 'back-sub');
  expect(served.code).toBe(0);

  // A validly signed entry of the back door's feed, published by the front node on that feed:
  // the ACL drops it. Then the front node's own entry: Mosquitto keeps one client's order, so
  // once the coordinator holds this one, the other would have arrived before it.
  const backKey = keyPairFromSeed(fromHex(back.node.seed!));
  const forged = nextEntry(null, 'access.decision', { resource: 'back-door', credential: { kind: 'card', card: 'ab'.repeat(16) }, allow: true, reason: 'ALLOWED', member: 'ada', at: Date.now() }, backKey, { site: init.site });
  await n.client.publishAsync(t.feed(backKey.publicKey), forged.wire, { qos: 1 });
  n.decide('front-door', 1);
  await eventually('the front node\'s fifth entry', async () => ((await headOf(n.key.publicKey)) === 5 ? true : undefined));
  expect(await headOf(backKey.publicKey)).toBe(0);
  expect((await api<{ rows: unknown[] }>('/api/log?resource=back-door')).body.rows).toHaveLength(0);

  n.drop();
  await eventually('the node offline by its Last Will', async () => ((await online()) === false ? true : undefined), 10_000);

  server.kill('SIGTERM');
  expect((await exited(server)).code).toBe(0);
}, 60_000);
