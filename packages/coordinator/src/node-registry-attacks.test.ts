/**
 * A malicious or broken enrolled node against the node registry: statuses and states dated far
 * ahead (kept, they would outrank every true message after them, across a restart too), and a
 * state about a resource the node does not control (states are unsigned: the topic is all the
 * broker vouches for). Each is refused and changes nothing.
 */
import { Buffer } from 'node:buffer';
import { signSync, type Bus, type BusHandler, type Ledger } from '@keymesh/ledger';
import { topics, type NodeState, type NodeStatus } from '@keymesh/protocol';
import { foundedLedger, populate } from '@keymesh/testkit/ledger-fixtures';
import { testKey } from '@keymesh/testkit/site';
import { MAX_AHEAD_MS, NODE_MESSAGE_RATE, NodeRegistry } from './node-registry.js';

const NOW = 1_800_000_000_000;
const door = testKey(30); // populate() enrols it for resource "door"
const opened: Ledger[] = [];
afterAll(() => opened.forEach((l) => l.close()));

/** A bus that keeps the registry's handlers so a test delivers messages by hand. */
function handBus() {
  const subs = new Map<string, BusHandler>();
  const bus: Bus = {
    connected: true,
    publish: async () => undefined,
    subscribe: async (f: string, h: BusHandler) => void subs.set(f, h),
    unsubscribe: async (f: string) => void subs.delete(f),
    onConnection: () => () => undefined,
  } as unknown as Bus;
  return { bus, deliver: (topic: string, msg: object, retain = false) => [...subs.entries()].find(([f]) => f.endsWith(topic.split('/').at(-1)!))![1]({ topic, payload: Buffer.from(JSON.stringify(msg)), retain }) };
}

function setup() {
  const f = foundedLedger(NOW, opened);
  populate(f.ledger);
  const t = topics(f.ledger.site);
  const h = handBus();
  const invalid: string[] = [];
  let now = NOW;
  const make = () => new NodeRegistry(f.ledger, h.bus, { now: () => now, onInvalid: (r) => invalid.push(r) });
  return { ...f, t, h, invalid, make, advance: (ms: number) => (now += ms) };
}

function status(at: number): NodeStatus {
  return signSync({ node: door.publicKey, online: true, versions: {}, head: 0, acked: null, rulesFreshAt: null, rulesAgeMs: null, syncLag: 0, heldForNewerVersion: 0, at }, door) as NodeStatus;
}
function state(at: number, s: NodeState['state'] = 'locked', resource = 'door'): NodeState {
  return { node: door.publicKey, resource, kind: 'door', state: s, member: null, at };
}

describe('node registry: what an enrolled node may not make it keep', () => {
  it('refuses a state dated far ahead, so a true state after it still counts after a restart', async () => {
    const s = setup();
    const reg = s.make();
    await reg.start();
    s.h.deliver(s.t.state(door.publicKey), state(NOW + 365 * 86_400_000, 'unlocked'));
    expect(s.invalid.at(-1)).toMatch(/ahead of this clock/);
    expect(reg.get(door.publicKey)?.state).toBeNull();
    s.h.deliver(s.t.state(door.publicKey), state(NOW + 1000, 'locked'));
    // After a restart, the broker's retained copy (the true, latest state) is taken.
    const again = s.make();
    await again.start();
    s.h.deliver(s.t.state(door.publicKey), state(NOW + 2000, 'open'), true);
    expect(again.get(door.publicKey)?.state?.state).toBe('open');
  });

  it('refuses a signed status dated far ahead; one within the login window is kept', async () => {
    const s = setup();
    const reg = s.make();
    await reg.start();
    s.h.deliver(s.t.status(door.publicKey), status(NOW + MAX_AHEAD_MS + 60_000));
    expect(s.invalid.at(-1)).toMatch(/ahead of this clock/);
    expect(reg.get(door.publicKey)?.status).toBeNull();
    s.h.deliver(s.t.status(door.publicKey), status(NOW + MAX_AHEAD_MS - 1000));
    expect(reg.get(door.publicKey)?.status?.at).toBe(NOW + MAX_AHEAD_MS - 1000);
    expect(reg.get(door.publicKey)?.online).toBe(true);
  });

  it('drops a far-ahead state already kept in SQLite (written before this check) at start', async () => {
    const s = setup();
    s.ledger.note(`state.${door.publicKey.slice(0, 48)}`, JSON.stringify(state(NOW + 365 * 86_400_000, 'unlocked')));
    const reg = s.make();
    expect(reg.get(door.publicKey)?.state).toBeNull();
    await reg.start();
    s.h.deliver(s.t.state(door.publicKey), state(NOW, 'locked'), true);
    expect(reg.get(door.publicKey)?.state?.state).toBe('locked');
  });

  it(`takes at most a burst of ${NODE_MESSAGE_RATE.burst} statuses from a node flooding them; the rest are dropped before their signature is checked`, async () => {
    const s = setup();
    const reg = s.make();
    await reg.start();
    let writes = 0;
    const note = s.ledger.note.bind(s.ledger);
    s.ledger.note = ((name: string, value?: string) => (value !== undefined && writes++, note(name, value))) as typeof s.ledger.note;
    for (let i = 0; i < NODE_MESSAGE_RATE.burst + 30; i++) s.h.deliver(s.t.status(door.publicKey), status(NOW + i));
    expect(writes).toBe(NODE_MESSAGE_RATE.burst);
    expect(reg.get(door.publicKey)?.status?.at).toBe(NOW + NODE_MESSAGE_RATE.burst - 1);
    expect(s.invalid.filter((r) => /messages a second/.test(r))).toHaveLength(30);
    // Time refills it: the node's next status counts.
    s.advance(1000);
    s.h.deliver(s.t.status(door.publicKey), status(NOW + 1000));
    expect(reg.get(door.publicKey)?.status?.at).toBe(NOW + 1000);
  });

  it('marks a node offline by its Last Will even when its statuses used up their rate', async () => {
    const s = setup();
    const reg = s.make();
    await reg.start();
    for (let i = 0; i < NODE_MESSAGE_RATE.burst + 5; i++) s.h.deliver(s.t.status(door.publicKey), status(NOW + i));
    expect(reg.get(door.publicKey)?.status?.online).toBe(true);
    const { sig: _sig, ...unsigned } = status(NOW + 100) as { sig?: string };
    s.h.deliver(s.t.status(door.publicKey), { ...unsigned, online: false });
    expect(reg.get(door.publicKey)).toMatchObject({ online: false, status: { online: false } });
  });

  it("refuses a state about a resource the node does not control (another door's 'unlocked')", async () => {
    const s = setup();
    const reg = s.make();
    await reg.start();
    s.h.deliver(s.t.state(door.publicKey), state(NOW, 'locked'));
    s.h.deliver(s.t.state(door.publicKey), state(NOW + 1, 'unlocked', 'laser'));
    expect(s.invalid.at(-1)).toMatch(/does not control/);
    expect(reg.get(door.publicKey)?.state).toMatchObject({ resource: 'door', state: 'locked' });
  });
});
