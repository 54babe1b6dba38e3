// The agent in process, wired as it runs: sim hardware, its own SQLite replica, a real aedes
// broker and a coordinator replica (the ledger's PubSubSync as a relay). Rules arrive by sync;
// a suspension arriving by sync ends the member's running session at once; a trainer's tap and
// then a trainee's record a cert.grant the policy accepts; the edge's events reach the
// coordinator; a tap works with the broker gone.
import { join } from 'node:path';
import { pino } from 'pino';
import { nodeMayDecide, type AnyEntry, type CardUid } from '@keymesh/protocol';
import { TestSite, memberBody, resourceBody, testCard, testKey } from '@keymesh/testkit/site';
import type { AedesHandle } from '@keymesh/testkit/aedes-broker';
import { startCoordinatorReplica, type CoordinatorReplica } from '@keymesh/testkit/coordinator-replica';
import { tempDir } from '@keymesh/testkit/temp-files';
import { eventually } from '@keymesh/testkit/processes';
import { parseConfig } from '../config/load.js';
import { enrol } from '../enrol.js';
import { SimOutput } from '../drivers/sim/index.js';
import { Agent } from './agent.js';

const site = new TestSite({ now: () => Date.now() });
const admin = site.admins[0]!;
const coordKey = testKey(9);
const edgeSeed = new Uint8Array(32).fill(3);
const dir = tempDir('km-agent-');
const UIDS = { ada: '0a0b0c0d', bob: '0b0b0b0b', tina: '7a7a7a7a' };

let broker: AedesHandle;
let coord: CoordinatorReplica;
let agent: Agent | undefined;

function adminWrites(edgeKey: string): AnyEntry[] {
  return [
    admin.write('resource.put', resourceBody('laser', { requiredCerts: ['laser'], idleTimeoutSeconds: 3600 })),
    admin.write('member.put', memberBody('ada', { name: 'Ada' })),
    admin.write('member.put', memberBody('bob', { name: 'Bob' })),
    admin.write('member.put', memberBody('tina', { name: 'Tina', trainerFor: [{ cert: 'laser', until: null }] })),
    ...Object.entries(UIDS).map(([m, uid]) => admin.write('card.bind', { card: testCard(uid), member: m })),
    admin.write('cert.grant', { member: 'ada', cert: 'laser', grantedBy: null, note: '' }),
    admin.write('cert.grant', { member: 'tina', cert: 'laser', grantedBy: null, note: '' }),
    admin.write('node.enrol', { node: coordKey.publicKey, name: 'coordinator', role: 'coordinator', resources: [] }),
    admin.write('node.enrol', { node: edgeKey, name: 'laser-pi', role: 'edge', resources: ['laser'] }),
  ];
}

beforeAll(async () => {
  coord = await startCoordinatorReplica(site, coordKey, dir);
  broker = coord.broker;
  const enrolled = enrol(coord.provisioning(dir, { name: 'laser-pi', kind: 'machine', resource: 'laser', seed: edgeSeed }), join(dir, 'edge'));
  coord.hold(adminWrites(enrolled.key.publicKey));
  const config = parseConfig({
    data: 'edge', panel: false, sync: { intervalMs: 100 }, broker: { reconnectMinMs: 100, reconnectMaxMs: 1000 },
    devices: { reader: { driver: 'sim' }, relay: { driver: 'sim' }, estop: { driver: 'sim' } },
    taps: { tapRepeatMs: 100 }, log: { level: 'silent' },
  }, 'test', dir);
  agent = await Agent.start({ config, log: pino({ level: 'silent' }) });
}, 30_000);

afterAll(async () => {
  await agent?.stop();
  await coord?.close();
});

const relay = () => (agent!.devices!.relay as SimOutput).value;
/** A tap, past the tap filter's repeat window (100 ms here) of the card's previous read. */
const tap = async (uid: string) => (await new Promise((r) => setTimeout(r, 150)), agent!.view.sim!.tap(uid as CardUid));

test('the rules arrive by sync; an allowed tap powers the machine, a refused one does not', async () => {
  const a = agent!;
  await eventually('the edge to hold its enrolment', () => (nodeMayDecide(a.ledger.policy, a.key.publicKey, 'laser') ? true : undefined), 15_000);
  expect(relay()).toBe(false);
  expect(await tap(UIDS.bob)).toEqual({ ok: false, message: expect.stringMatching(/not certified/) });
  expect(relay()).toBe(false);
  expect(await tap(UIDS.ada)).toEqual({ ok: true, message: expect.stringMatching(/Ada/) });
  expect(relay()).toBe(true);
  expect(a.view.snapshot().state).toBe('in_use');
});

test('a suspension arriving by sync ends the running session at once, recorded as ended by an admin', async () => {
  const a = agent!;
  expect(relay()).toBe(true);
  coord.publish(admin.write('member.put', memberBody('ada', { name: 'Ada', status: 'suspended' })));
  await eventually('the session to end', () => (relay() ? undefined : true), 10_000);
  const mine = a.ledger.read(a.key.publicKey, 1, 1000);
  const end = mine.find((e) => e.type === 'machine.session' && (e.body as { event: string }).event === 'end');
  expect(end?.body).toMatchObject({ member: 'ada', endReason: 'admin' });
  expect(await tap(UIDS.ada)).toEqual({ ok: false, message: expect.stringMatching(/suspended/) });
});

test("a trainer's tap then a trainee's records a cert.grant the policy accepts; the trainee may then start", async () => {
  const a = agent!;
  await tap(UIDS.tina);
  expect(relay()).toBe(true);
  await tap(UIDS.bob);
  expect(a.ledger.policy.certified('bob', 'laser')).toBe(true);
  const grant = a.ledger.read(a.key.publicKey, 1, 1000).find((e) => e.type === 'cert.grant');
  expect(grant?.body).toMatchObject({ member: 'bob', cert: 'laser', grantedBy: 'tina' });
  expect(grant?.deps).toEqual(expect.arrayContaining(a.ledger.policy.headHashes('member/tina')));
  // Tina hands over to Bob (another allowed member's tap).
  expect(await tap(UIDS.bob)).toEqual({ ok: true, message: expect.stringMatching(/Bob/) });
  expect(a.view.snapshot().member?.id).toBe('bob');
});

test("the edge's feed reaches the coordinator, which verifies and stores every entry", async () => {
  const a = agent!;
  const head = a.ledger.seqOf(a.key.publicKey);
  expect(head).toBeGreaterThan(4);
  await eventually('the coordinator to hold the edge feed', () => (coord.ledger.seqOf(a.key.publicKey) === head ? true : undefined), 10_000);
  expect(coord.ledger.policy.certified('bob', 'laser')).toBe(true);
  await eventually('the coordinator to acknowledge', () => (a.sync!.acknowledged === head ? true : undefined), 10_000);
});

test('with the broker gone a tap is still decided on the local replica and recorded', async () => {
  const a = agent!;
  await tap(UIDS.bob); // Bob ends his session
  expect(relay()).toBe(false);
  broker.cutAll();
  await new Promise<void>((r) => broker.server.close(() => r()));
  await eventually('the agent to see the broker gone', () => (a.view.online ? undefined : true), 10_000);
  const before = a.ledger.seqOf(a.key.publicKey);
  expect(await tap(UIDS.ada)).toEqual({ ok: false, message: expect.stringMatching(/suspended/) });
  expect(a.ledger.seqOf(a.key.publicKey)).toBe(before + 1);
});
