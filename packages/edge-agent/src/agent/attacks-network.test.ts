// Red team: a hostile peer on the broker. Garbage, forged, oversized and replayed messages on
// every topic a door edge subscribes to (feed, head, have, want, batch, blob, cmd): the agent
// must not crash, stall, move the relay, or change its replica; afterwards a tap still opens
// the door and an admin's command still acts, once.
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { encodeEntry, makeCommand, nodeMayDecide, topics, type CardUid } from '@keymesh/protocol';
import { TestSite, memberBody, resourceBody, testCard, testKey } from '@keymesh/testkit/site';
import type { AedesHandle } from '@keymesh/testkit/aedes-broker';
import { startCoordinatorReplica, type CoordinatorReplica } from '@keymesh/testkit/coordinator-replica';
import { tempDir } from '@keymesh/testkit/temp-files';
import { eventually } from '@keymesh/testkit/processes';
import type { MqttClient } from 'mqtt';
import { parseConfig } from '../config/load.js';
import { enrol } from '../enrol.js';
import { SimOutput } from '../drivers/sim/index.js';
import { createLogger } from '../log.js';
import { Agent } from './agent.js';

const site = new TestSite({ now: () => Date.now() });
const admin = site.admins[0]!;
const coordKey = testKey(9);
const stranger = testKey(66);
const dir = tempDir('km-attack-net-');
const ADA = '0a0b0c0d';

let broker: AedesHandle;
let coord: CoordinatorReplica;
let agent: Agent | undefined;
let evil: MqttClient | undefined;
const relaySeen: boolean[] = [];
/** Every line the agent logs: no uid may be in it, and a hostile peer must not be able to fill the journal. */
const logLines: string[] = [];
const logSink = new Writable({ write(chunk, _enc, cb) { logLines.push(...String(chunk).split('\n').filter(Boolean)); cb(); } });

beforeAll(async () => {
  coord = await startCoordinatorReplica(site, coordKey, dir);
  broker = coord.broker;
  const enrolled = enrol(coord.provisioning(dir, { name: 'door-pi', kind: 'door', resource: 'front', seed: new Uint8Array(32).fill(4) }), join(dir, 'edge'));
  coord.hold([
    admin.write('resource.put', resourceBody('front', { kind: 'door' })),
    admin.write('member.put', memberBody('ada', { name: 'Ada' })),
    admin.write('card.bind', { card: testCard(ADA), member: 'ada' }),
    admin.write('node.enrol', { node: coordKey.publicKey, name: 'coordinator', role: 'coordinator', resources: [] }),
    admin.write('node.enrol', { node: enrolled.key.publicKey, name: 'door-pi', role: 'edge', resources: ['front'] }),
  ]);
  const config = parseConfig({
    data: 'edge', panel: false, sync: { intervalMs: 100 }, broker: { reconnectMinMs: 100, reconnectMaxMs: 1000 },
    devices: { reader: { driver: 'sim' }, relay: { driver: 'sim' } }, taps: { tapRepeatMs: 100 }, log: { level: 'silent' },
  }, 'test', dir);
  agent = await Agent.start({ config, log: createLogger({ level: 'info', destination: logSink }) });
  (agent.devices!.relay as SimOutput).onChange((on) => relaySeen.push(on));
  evil = await broker.connect('evil');
}, 30_000);

afterAll(async () => {
  await evil?.endAsync().catch(() => undefined);
  await agent?.stop();
  await coord?.close();
});

const settle = () => new Promise((r) => setTimeout(r, 1500));

test('hostile messages on every subscribed topic: no crash, no stall, no relay, the replica unchanged', async () => {
  const a = agent!;
  await eventually('the edge to hold its enrolment', () => (nodeMayDecide(a.ledger.policy, a.key.publicKey, 'front') ? true : undefined), 15_000);
  await eventually('the edge to be online', () => (a.view.online ? true : undefined), 10_000);
  const t = topics(site.site);
  const me = a.key.publicKey;
  const count = a.ledger.count();
  const mySeq = a.ledger.seqOf(me);
  const adminSeq = a.ledger.seqOf(admin.id);
  // A real admin entry, its body changed (bad signature); and one claiming the edge's own feed.
  const real = admin.write('member.put', memberBody('mallory', { name: 'Mallory' }));
  const forged = { ...JSON.parse(encodeEntry(real)), body: { ...(real.body as object), name: 'Eve' } };
  const ownForged = { ...JSON.parse(encodeEntry(real)), author: me, seq: mySeq + 1 };
  // What the edge sends the hostile peer in answer (a want from a stranger must not make it serve its feed).
  const answers: string[] = [];
  evil!.on('message', (topic) => { if (topic.endsWith('/evil')) answers.push(topic); });
  await evil!.subscribeAsync([t.batch(me, 'evil'), t.blobPut(me, 'evil')], { qos: 1 });
  const huge = Buffer.alloc(3 * 1024 * 1024, 0x7b);
  const junk = ['', 'not json', '{}', '[]', 'null', '{"__proto__":{"polluted":1}}', JSON.stringify({ seq: 1e18, hash: 'zz', hlc: { wall: 9e15, logical: -1 } }), huge];
  const targets = [
    t.feed(admin.id), t.feed(me), t.feed(coordKey.publicKey), t.head(admin.id), t.head(coordKey.publicKey), t.have('evil'),
    t.want('evil', me), t.batch('evil', me), t.blobGet('evil', me), t.blobPut('evil', me), t.blobHeld('evil'), t.cmd(me),
  ];
  const linesBefore = logLines.length;
  for (let round = 0; round < 5; round++) for (const topic of targets) for (const p of junk) await evil!.publishAsync(topic, p, { qos: 1 });
  await evil!.publishAsync(t.feed(admin.id), JSON.stringify(forged), { qos: 1 });
  await evil!.publishAsync(t.feed(me), JSON.stringify(ownForged), { qos: 1 });
  await evil!.publishAsync(t.batch('evil', me), [JSON.stringify(forged), JSON.stringify(ownForged), 'x'.repeat(100_000)].join('\n'), { qos: 1 });
  await evil!.publishAsync(t.have('evil'), JSON.stringify({ [admin.id]: 1_000_000, [me]: 1_000_000 }), { qos: 1 });
  await evil!.publishAsync(t.want('evil', me), JSON.stringify({ [me]: [[1, 1_000_000_000]], [admin.id]: [[1, 1e12]] }), { qos: 1 });
  // A command signed by a stranger, and one retained (a stale one replays on every subscribe).
  const bad = makeCommand({ site: site.site, node: me, resource: 'front', issuedAt: Date.now() }, stranger);
  await evil!.publishAsync(t.cmd(me), JSON.stringify(bad), { qos: 1 });
  await evil!.publishAsync(t.head(admin.id), JSON.stringify(forged), { qos: 1, retain: true });
  await settle();
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(answers).toEqual([]);
  // ~500 junk messages: the journal gets a bounded summary, not a line per message.
  expect(logLines.length - linesBefore).toBeLessThan(100);
  expect(relaySeen.filter((v) => v)).toEqual([]);
  expect(a.healthy()).toBe(true);
  expect(a.view.online).toBe(true);
  expect(a.ledger.count()).toBe(count);
  expect(a.ledger.seqOf(me)).toBe(mySeq);
  expect(a.ledger.seqOf(admin.id)).toBe(adminSeq);
  expect(a.ledger.policy.member('mallory')).toBeUndefined();
  // Not stalled: a tap opens the door.
  await new Promise((r) => setTimeout(r, 150));
  expect(a.view.sim!.tap(ADA as CardUid)).toMatchObject({ ok: true });
  expect((a.devices!.relay as SimOutput).value).toBe(true);
}, 60_000);

test("an admin's command acts once even when the hostile peer replays it, live and retained", async () => {
  const a = agent!;
  const t = topics(site.site);
  const me = a.key.publicKey;
  await eventually('the door to lock again', () => ((a.devices!.relay as SimOutput).value ? undefined : true), 15_000);
  const before = relaySeen.filter((v) => v).length;
  const c = makeCommand({ site: site.site, node: me, resource: 'front', issuedAt: Date.now() }, admin.key);
  const text = JSON.stringify(c);
  await coord.sync.stop().catch(() => undefined); // not needed for commands; keeps the log quiet
  await evil!.publishAsync(t.cmd(me), text, { qos: 1 });
  await eventually('the door to unlock by the command', () => (relaySeen.filter((v) => v).length > before ? true : undefined), 10_000);
  await eventually('the door to lock again', () => ((a.devices!.relay as SimOutput).value ? undefined : true), 15_000);
  for (let i = 0; i < 5; i++) await evil!.publishAsync(t.cmd(me), text, { qos: 1, retain: i === 4 });
  await settle();
  expect(relaySeen.filter((v) => v).length).toBe(before + 1);
  const opened = a.ledger.read(me, 1, 10_000).filter((e) => e.type === 'door.event' && JSON.stringify(e.body).includes(c.id));
  expect(opened).toHaveLength(1);
}, 60_000);
