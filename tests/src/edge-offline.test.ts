// Two edge agents (`keymesh-edge run`, sim hardware) against a real `keymesh serve`: taps are
// decided at once, allowed and denied with reasons; then the coordinator (and its embedded
// broker) is killed with SIGKILL: the panels say offline, taps keep working on the local
// replica and the relays move; the coordinator comes back on the same data and ports: the
// panels say online, and every decision reaches it exactly once, in order (DESIGN §6, §10).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, exited, stopAll } from '@keymesh/testkit/processes';
import { CARDS, api, freePort, makeSite, startEdge, startServe, type Panel } from './edge-site.js';

const dir = mkdtempSync(join(tmpdir(), 'km-edge-offline-'));
afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

const ADA = { card: CARDS[0]!.name };
const BOB = { card: CARDS[1]!.name };
/** Reads of one card closer than the config's tapRepeatMs (100 ms) are one tap: taps of one card wait past it. */
const pastRepeatWindow = () => new Promise((r) => setTimeout(r, 150));

interface Made { allow: boolean; member: string | null }
interface LogRow { author: string; seq: number; hash: string; type: string; resource: string; member: string | null; allow: boolean | null }

/** Taps through the panel and checks the decision it shows; returns what the coordinator must log. */
async function tap(panel: Panel, body: { card: string } | { uid: string }, want: { allow: boolean; reason?: string; member: string | null }): Promise<Made> {
  await pastRepeatWindow();
  const res = await panel.tap(body);
  expect(res.ok).toBe(want.allow);
  const d = (await panel.status()).lastDecision;
  expect(d).toMatchObject({ allow: want.allow, ...(want.reason ? { reason: want.reason } : {}) });
  return { allow: want.allow, member: want.member };
}

test('taps work with the coordinator and broker killed, and after they return every decision reaches the coordinator exactly once', async () => {
  const ports = { mqtt: await freePort(), http: await freePort() };
  const site = await makeSite(dir, { broker: `mqtt://127.0.0.1:${ports.mqtt}` });
  let coord = await startServe(site, ports);
  const door = await startEdge(site.door);
  const laser = await startEdge(site.laser!);
  const made: Record<'door' | 'laser', Made[]> = { door: [], laser: [] };

  for (const [name, e] of [['door', door], ['laser', laser]] as const) {
    await eventually(`${name}: online with fresh rules`, async () => {
      const s = await e.panel.status();
      return s.online && s.rulesFreshAt !== null ? true : undefined;
    }, 20_000);
  }

  // Online: allowed and denied, with reasons; the relays move.
  made.door.push(await tap(door.panel, ADA, { allow: true, member: 'ada' }));
  expect(await door.panel.output('relay')).toBe(true);
  made.door.push(await tap(door.panel, { uid: '0badc0ff01' }, { allow: false, reason: 'UNKNOWN_CARD', member: null }));
  made.laser.push(await tap(laser.panel, BOB, { allow: false, reason: 'NOT_CERTIFIED', member: 'bob' }));
  expect(await laser.panel.output('relay')).toBe(false);
  made.laser.push(await tap(laser.panel, ADA, { allow: true, member: 'ada' }));
  expect(await laser.panel.output('relay')).toBe(true);
  expect((await laser.panel.status()).state).toBe('in_use');
  await pastRepeatWindow();
  await laser.panel.tap(ADA); // tap out: a session end, no decision
  expect(await laser.panel.output('relay')).toBe(false);
  await eventually('the door to lock again by itself', async () => ((await door.panel.output('relay')) ? undefined : true));

  const keys = await eventually('both nodes listed by the coordinator', async () => {
    const nodes = (await api<{ nodes: Array<{ node: string; name: string }> }>(coord.http, '/api/nodes')).nodes;
    const d = nodes.find((n) => n.name === site.door.name)?.node;
    const l = nodes.find((n) => n.name === site.laser!.name)?.node;
    return d && l ? { door: d, laser: l } : undefined;
  });
  const decisions = async (http: string, key: string): Promise<LogRow[]> =>
    (await api<{ rows: LogRow[] }>(http, '/api/log?limit=1000')).rows.filter((r) => r.author === key && r.type === 'access.decision');
  await eventually('the online decisions at the coordinator', async () => ((await decisions(coord.http, keys.door)).length === 2 && (await decisions(coord.http, keys.laser)).length === 2 ? true : undefined));

  // The coordinator and its broker die at once.
  coord.process.kill('SIGKILL');
  await exited(coord.process);
  for (const [name, e] of [['door', door], ['laser', laser]] as const) {
    await eventually(`${name}'s panel to say offline`, async () => ((await e.panel.status()).online ? undefined : true));
  }

  // Offline: decided on the local replica, relay first.
  for (const [card, member] of [[ADA, 'ada'], [BOB, 'bob'], [ADA, 'ada'], [BOB, 'bob']] as const) {
    made.door.push(await tap(door.panel, card, { allow: true, member }));
    expect(await door.panel.output('relay')).toBe(true);
  }
  made.door.push(await tap(door.panel, { uid: '0badc0ff02' }, { allow: false, reason: 'UNKNOWN_CARD', member: null }));
  made.laser.push(await tap(laser.panel, BOB, { allow: false, reason: 'NOT_CERTIFIED', member: 'bob' }));
  made.laser.push(await tap(laser.panel, ADA, { allow: true, member: 'ada' }));
  expect(await laser.panel.output('relay')).toBe(true);
  await pastRepeatWindow();
  await laser.panel.tap(ADA);
  expect(await laser.panel.output('relay')).toBe(false);
  made.laser.push(await tap(laser.panel, ADA, { allow: true, member: 'ada' }));
  expect(await laser.panel.output('relay')).toBe(true);
  expect((await door.panel.status()).online).toBe(false);
  expect((await laser.panel.status()).online).toBe(false);

  // Back on the same data and ports: the edges find it by themselves.
  coord = await startServe(site, ports);
  for (const [name, e] of [['door', door], ['laser', laser]] as const) {
    await eventually(`${name}'s panel to say online again`, async () => ((await e.panel.status()).online ? true : undefined), 20_000);
  }
  for (const which of ['door', 'laser'] as const) {
    const want = made[which];
    const rows = await eventually(`${which}: all ${want.length} decisions at the coordinator`, async () => {
      const r = await decisions(coord.http, keys[which]);
      return r.length >= want.length ? r : undefined;
    }, 20_000);
    // Exactly once, in the order made: none lost, none twice.
    expect(new Set(rows.map((r) => r.seq)).size).toBe(rows.length);
    expect(new Set(rows.map((r) => r.hash)).size).toBe(rows.length);
    expect(rows.sort((a, b) => a.seq - b.seq).map((r) => ({ allow: r.allow, member: r.member }))).toEqual(want);
    // The node's own status: everything it holds acknowledged (acked = head).
    await eventually(`${which}: acked = head`, async () => {
      const row = (await api<{ nodes: Array<{ key: string; online: boolean | null; ackedLag: number | null }> }>(coord.http, '/api/status')).nodes.find((n) => n.key === keys[which]);
      return row?.online === true && row.ackedLag === 0 ? true : undefined;
    }, 20_000);
  }
  expect(made.door).toHaveLength(7);
  expect(made.laser).toHaveLength(5);
  // Still exactly those once the dust settles (a resend after the acknowledgement would show here).
  expect(await decisions(coord.http, keys.door)).toHaveLength(7);
  expect(await decisions(coord.http, keys.laser)).toHaveLength(5);

  for (const e of [door, laser]) {
    e.process.kill('SIGTERM');
    expect((await exited(e.process)).code).toBe(0);
  }
  coord.process.kill('SIGTERM');
  expect((await exited(coord.process)).code).toBe(0);
}, 150_000); // most of it is the dozen CLI processes that make the site, slow on 2 busy cores
