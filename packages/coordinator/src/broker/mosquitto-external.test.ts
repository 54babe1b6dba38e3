/**
 * The generated Mosquitto files, run by Debian's own `mosquitto` on a free port: the same
 * refusals as the embedded broker (anonymous, wrong password, another node's feed, another
 * node's commands), and the node's derived password accepted.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Ledger } from '@keymesh/ledger';
import { topics } from '@keymesh/protocol';
import { freePort, MOSQUITTO_PUB, MOSQUITTO_SUB, runClient, spawnClient, startMosquitto, type MosquittoHandle } from '@keymesh/testkit/mosquitto';
import { tempDir } from '@keymesh/testkit/temp-files';
import { testKey } from '@keymesh/testkit/site';
import { brokerPassword, readOrCreateBrokerSecret } from '../broker-credentials.js';
import { dataPaths, readSite } from '../data-dir.js';
import { brokerMosquittoConf } from '../cli/commands/broker-mosquitto-conf.js';
import { initSite } from '../site-init.js';
import { mosquittoPasswordLine, writeMosquittoConf, type WrittenMosquittoConf } from './mosquitto-conf.js';

const nodeA = testKey(30);
const nodeB = testKey(31);
const nodeR = testKey(32);
let data: string;
let site: string;
let coordinator: string;
let t: ReturnType<typeof topics>;
let files: WrittenMosquittoConf;
let broker: MosquittoHandle;
let secret: Buffer;

beforeAll(async () => {
  const root = tempDir();
  data = join(root, 'data');
  const res = initSite({ name: 'Test Space', data, keysDir: join(root, 'keys') });
  site = res.site;
  coordinator = res.coordinator;
  t = topics(site);
  const ledger = Ledger.open(dataPaths(data).ledger, { site: readSite(dataPaths(data)).site });
  try {
    for (const [k, name] of [[nodeA, 'door-a'], [nodeB, 'door-b'], [nodeR, 'old-pi']] as const) ledger.append(res.daily, 'node.enrol', { node: k.publicKey, name, role: 'edge', resources: [] });
    ledger.append(res.daily, 'node.retire', { node: nodeR.publicKey, lastSeq: 0, reason: 'replaced' });
  } finally {
    ledger.close();
  }
  const port = await freePort();
  files = writeMosquittoConf({ dataDir: data, port, host: '127.0.0.1', passwords: true });
  secret = readOrCreateBrokerSecret(data);
  // Started as root, mosquitto drops to the user `mosquitto`, which may not read a 0600 file of
  // ours: the generated configuration plus one line that keeps it as whoever runs the test.
  const conf = join(root, 'test-mosquitto.conf');
  writeFileSync(conf, readFileSync(files.confFile, 'utf8') + `user ${userInfo().username}\n`);
  broker = await startMosquitto(conf, port);
});

afterAll(async () => {
  await broker?.stop();
});

function args(user: string | null, password: string | null, ...rest: string[]): string[] {
  return ['-h', '127.0.0.1', '-p', String(broker.port), '-V', 'mqttv311', ...(user ? ['-u', user] : []), ...(password ? ['-P', password] : []), ...rest];
}
const pw = (key: string) => brokerPassword(secret, key);
const refused = (r: { code: number | null; stderr: string }) => r.code !== 0 && /not authori[sz]ed/i.test(r.stderr);

it('writes the enrolled, unretired nodes (and the coordinator) as users, the secrets with mode 0600', () => {
  expect(files.users.map((u) => u.key).sort()).toEqual([coordinator, nodeA.publicKey, nodeB.publicKey].sort());
  const passwd = readFileSync(files.passwordFile, 'utf8');
  expect(passwd).not.toContain(nodeR.publicKey);
  expect(passwd).not.toContain(pw(nodeA.publicKey));
  expect(passwd.trim().split('\n').every((l) => /^[0-9a-f]{64}:\$7\$101\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/.test(l))).toBe(true);
  expect(statSync(files.passwordFile).mode & 0o077).toBe(0);
  expect(statSync(files.plainPasswordsFile!).mode & 0o077).toBe(0);
  expect(readFileSync(files.plainPasswordsFile!, 'utf8')).toContain(`${nodeA.publicKey} ${pw(nodeA.publicKey)}`);
  expect(readFileSync(files.aclFile, 'utf8')).toContain(`user ${coordinator}`);
});

it('hashes a password as mosquitto_passwd does (its own line for "secretpw" verifies)', () => {
  // Written by Debian's mosquitto_passwd 2.0.11: `mosquitto_passwd -c -b pw alice secretpw`.
  const line = 'alice:$7$101$lz+KMJmE6LrtR4iV$P6FHPpuVIaSnBjOJelmKsscRE6YwliH5+FVYewl9DRfp08ekkEbBJwvETWGKdQNcEK5J/PKmCMpawNGtVuC+rA==';
  expect(mosquittoPasswordLine('alice', 'secretpw', { salt: Buffer.from('lz+KMJmE6LrtR4iV', 'base64') })).toBe(line);
});

it('refuses anonymous clients and wrong passwords; accepts a node\'s derived password', async () => {
  expect(refused(await runClient(MOSQUITTO_SUB, args(null, null, '-t', '#', '-C', '1', '-W', '5')))).toBe(true);
  expect(refused(await runClient(MOSQUITTO_SUB, args(nodeA.publicKey, pw(nodeB.publicKey), '-t', t.filters.heads, '-C', '1', '-W', '5')))).toBe(true);
  expect(refused(await runClient(MOSQUITTO_SUB, args(nodeR.publicKey, pw(nodeR.publicKey), '-t', t.filters.heads, '-C', '1', '-W', '5')))).toBe(true);
  const ok = await runClient(MOSQUITTO_PUB, args(nodeA.publicKey, pw(nodeA.publicKey), '-t', t.head(nodeA.publicKey), '-m', 'head-a', '-r', '-q', '1'));
  expect(ok.code).toBe(0);
  const seen = await runClient(MOSQUITTO_SUB, args(nodeB.publicKey, pw(nodeB.publicKey), '-t', t.filters.heads, '-v', '-C', '1', '-W', '10'));
  expect(seen.stdout.trim()).toBe(`${t.head(nodeA.publicKey)} head-a`);
});

it('never delivers a node\'s publish to another node\'s feed, nor another node\'s commands', async () => {
  const watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'coord', username: coordinator, password: pw(coordinator), protocolVersion: 4, reconnectPeriod: 0 });
  const got: string[] = [];
  watcher.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
  await watcher.subscribeAsync([t.filters.feeds, t.cmd(coordinator)], { qos: 1 });
  // Node A snoops on B's commands with filters Mosquitto accepts: the ACL still withholds them.
  const snoop = spawnClient(MOSQUITTO_SUB, args(nodeA.publicKey, pw(nodeA.publicKey), '-i', 'snoop', '-t', t.cmd(nodeB.publicKey), '-t', `${t.root}/cmd/+`, '-t', t.filters.haves, '-v'));
  const b = spawnClient(MOSQUITTO_SUB, args(nodeB.publicKey, pw(nodeB.publicKey), '-i', 'door-b', '-t', t.cmd(nodeB.publicKey), '-t', t.filters.haves, '-v'));
  // mosquitto_sub says nothing once subscribed: each has its subscriptions when it hears a marker.
  for (let i = 0; !snoop.stdout.includes('marker') || !b.stdout.includes('marker'); i++) {
    if (i > 100) throw new Error(`the subscribers never heard the marker: ${snoop.stderr} ${b.stderr}`);
    await runClient(MOSQUITTO_PUB, args(coordinator, pw(coordinator), '-t', t.have(coordinator), '-m', 'marker'));
    await new Promise((r) => setTimeout(r, 50));
  }
  await runClient(MOSQUITTO_PUB, args(nodeA.publicKey, pw(nodeA.publicKey), '-t', t.feed(nodeB.publicKey), '-m', 'forged', '-q', '1'));
  await runClient(MOSQUITTO_PUB, args(nodeA.publicKey, pw(nodeA.publicKey), '-t', t.cmd(nodeB.publicKey), '-m', 'cmd-from-a', '-q', '1'));
  await runClient(MOSQUITTO_PUB, args(nodeA.publicKey, pw(nodeA.publicKey), '-t', '$SYS/x', '-m', 'sys', '-q', '1'));
  await runClient(MOSQUITTO_PUB, args(nodeA.publicKey, pw(nodeA.publicKey), '-t', t.feed(nodeA.publicKey), '-m', 'own', '-q', '1'));
  // A coordinator relays an admin's command; Mosquitto delivers in order, so whatever of the
  // above would reach B or the snoop has reached them once B holds this one.
  await watcher.publishAsync(t.cmd(nodeB.publicKey), 'cmd-relayed', { qos: 1 });
  for (let i = 0; !b.stdout.includes('cmd-relayed'); i++) {
    if (i > 200) throw new Error(`B never got its command: ${b.stdout} ${b.stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await runClient(MOSQUITTO_PUB, args(coordinator, pw(coordinator), '-t', t.have(coordinator), '-m', 'end'));
  for (let i = 0; !snoop.stdout.includes(' end'); i++) {
    if (i > 200) throw new Error(`the snoop never heard the end marker: ${snoop.stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const [rb, rs] = await Promise.all([b.stop(), snoop.stop()]);
  const commands = (out: string) => out.split('\n').filter((l) => l.startsWith(`${t.root}/cmd/`));
  expect(commands(rb.stdout)).toEqual([`${t.cmd(nodeB.publicKey)} cmd-relayed`]);
  expect(commands(rs.stdout)).toEqual([]);
  await watcher.endAsync();
  expect(got).toEqual([`${t.feed(nodeA.publicKey)} own`]);
});

it('keymesh broker mosquitto-conf prints the paths and how to use them', async () => {
  const cmd = brokerMosquittoConf;
  expect(cmd.help).toContain('--out DIR');
  let text = '';
  const out = join(tempDir(), 'conf');
  const code = await cmd.run({ flags: { out }, positionals: [], data, json: false, out: { write: async (s: string) => void (text += s) } as never, progress: () => undefined });
  expect(code).toBe(0);
  expect(text).toContain(join(out, 'passwd'));
  expect(text).toContain('mosquitto -c');
  expect(readFileSync(join(out, 'mosquitto.conf'), 'utf8')).toMatch(/allow_anonymous false[\s\S]*max_packet_size 262144/);
});
