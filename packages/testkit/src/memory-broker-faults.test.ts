import type { BusMessage } from '@keymesh/ledger';
import { MemoryBroker, type BusFaults } from './memory-broker.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** Publishes 0..n-1 on "t" from one client to another under `faults`; returns what arrived, in order. */
async function run(faults: BusFaults, seed: number, n = 200, qos: 0 | 1 = 0): Promise<number[]> {
  const broker = new MemoryBroker({ seed, faults });
  const a = broker.client('a');
  const b = broker.client('b');
  const got: number[] = [];
  await b.subscribe('t', (m: BusMessage) => got.push(Number(dec(m.payload))));
  for (let i = 0; i < n; i++) await a.publish('t', enc(String(i)), { qos });
  await broker.settle();
  return got;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('MemoryBroker: faults', () => {
  it('delivers everything in order without faults', async () => {
    expect(await run({}, 1)).toEqual(range(200));
  });

  it('drops deliveries with the given probability, the same ones for the same seed', async () => {
    const got = await run({ drop: 0.3 }, 7);
    expect(got.length).toBeGreaterThan(100);
    expect(got.length).toBeLessThan(180);
    expect(got).toEqual([...got].sort((x, y) => x - y));
    expect(await run({ drop: 0.3 }, 7)).toEqual(got);
    expect(await run({ drop: 0.3 }, 8)).not.toEqual(got);
    expect(await run({ drop: 1 }, 7)).toEqual([]);
  });

  it('never drops QoS 1 when protectQos1 is set', async () => {
    expect(await run({ drop: 1, protectQos1: true }, 3, 50, 1)).toEqual(range(50));
    expect(await run({ drop: 1, protectQos1: true }, 3, 50, 0)).toEqual([]);
  });

  it('duplicates deliveries', async () => {
    const all = await run({ duplicate: 1 }, 2, 50);
    expect(all).toEqual(range(50).flatMap((i) => [i, i]));
    const some = await run({ duplicate: 0.2 }, 2);
    expect(new Set(some).size).toBe(200);
    expect(some.length).toBeGreaterThan(210);
    expect(some.length).toBeLessThan(280);
  });

  it('reorders deliveries but loses none, reproducibly', async () => {
    const got = await run({ reorder: 0.3 }, 5);
    expect([...got].sort((x, y) => x - y)).toEqual(range(200));
    expect(got).not.toEqual(range(200));
    expect(await run({ reorder: 0.3 }, 5)).toEqual(got);
  });

  it('delays deliveries in virtual time: advance() makes only those due', async () => {
    const broker = new MemoryBroker({ faults: { delayMs: [10, 10] } });
    const a = broker.client('a');
    const got: string[] = [];
    await a.subscribe('t', (m) => got.push(dec(m.payload)));
    await a.publish('t', enc('1'));
    expect(broker.advance(9)).toBe(0);
    expect(got).toEqual([]);
    await a.publish('t', enc('2')); // due at 19
    expect(broker.advance(1)).toBe(1);
    expect(got).toEqual(['1']);
    expect(broker.now).toBe(10);
    expect(broker.advance(9)).toBe(1);
    expect(got).toEqual(['1', '2']);
  });

  it('varies delays within the range, which reorders deliveries', async () => {
    const got = await run({ delayMs: [0, 20] }, 11);
    expect([...got].sort((x, y) => x - y)).toEqual(range(200));
    expect(got).not.toEqual(range(200));
  });

  it('refuses fault settings that make no sense', () => {
    expect(() => new MemoryBroker({ faults: { drop: 1.5 } })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
    expect(() => new MemoryBroker({ faults: { delayMs: [5, 1] } })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
    expect(() => new MemoryBroker().setFaults({ reorder: -0.1 })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
  });

  it('setFaults({}) gives a clean phase', async () => {
    const broker = new MemoryBroker({ faults: { drop: 1 } });
    const a = broker.client('a');
    const got: string[] = [];
    await a.subscribe('t', (m) => got.push(dec(m.payload)));
    await a.publish('t', enc('lost'));
    broker.setFaults({});
    await a.publish('t', enc('kept'));
    await broker.settle();
    expect(got).toEqual(['kept']);
    expect(broker.stats).toMatchObject({ dropped: 1, delivered: 1 });
  });

  it('refuses a publish over the byte limit, with nothing delivered or retained', async () => {
    const broker = new MemoryBroker({ maxPayloadBytes: 8 });
    const a = broker.client('a');
    const got: string[] = [];
    await a.subscribe('t', (m) => got.push(dec(m.payload)));
    await expect(a.publish('t', enc('123456789'), { retain: true })).rejects.toMatchObject({ code: 'BUS_MESSAGE_TOO_LARGE', details: { size: 9, limit: 8 } });
    await a.publish('t', enc('12345678'));
    await broker.settle();
    expect(got).toEqual(['12345678']);
    expect(broker.retained().size).toBe(0);
    expect(broker.stats.rejected).toBe(1);
  });
});

describe('MemoryBroker: partitions and connection events', () => {
  it('cuts clients off and heals them, re-sending retained messages', async () => {
    const broker = new MemoryBroker();
    const a = broker.client('a');
    const b = broker.client('b');
    const events: boolean[] = [];
    b.onConnection((up) => events.push(up));
    const got: string[] = [];
    await b.subscribe('head/+', (m) => got.push(`${m.retain ? 'R:' : ''}${m.topic}=${dec(m.payload)}`));
    await a.publish('head/a', enc('1'), { retain: true });
    await a.publish('live', enc('in flight')); // b not subscribed: nothing routed
    broker.partition(['b']);
    expect(b.connected).toBe(false);
    expect(events).toEqual([false]);
    expect(broker.isPartitioned('b')).toBe(true);
    // Queued for b before the cut: lost in flight.
    await broker.settle();
    expect(got).toEqual([]);
    expect(broker.stats.lost).toBe(1);
    // While cut off: b's publishes reject, and nothing reaches it.
    await expect(b.publish('head/b', enc('x'))).rejects.toMatchObject({ code: 'BUS_NOT_CONNECTED' });
    await a.publish('head/a', enc('2'), { retain: true });
    await a.publish('head/c', enc('3'));
    await broker.settle();
    expect(got).toEqual([]);
    broker.heal();
    expect(b.connected).toBe(true);
    expect(events).toEqual([false, true]);
    await broker.settle();
    expect(got).toEqual(['R:head/a=2']);
    await b.publish('head/b', enc('ok'));
  });

  it('loses a delivery in flight even when the client is healed before it is due', async () => {
    const broker = new MemoryBroker({ faults: { delayMs: [5, 5] } });
    const a = broker.client('a');
    const b = broker.client('b');
    const got: string[] = [];
    await b.subscribe('t', (m) => got.push(dec(m.payload)));
    await a.publish('t', enc('1'));
    broker.partition(['b']);
    broker.heal(['b']);
    await broker.settle();
    expect(got).toEqual([]);
  });

  it('starts a client of a partitioned id disconnected, and heals only those named', async () => {
    const broker = new MemoryBroker();
    broker.partition(['x', 'y']);
    const x = broker.client('x');
    const y = broker.client('y');
    expect(x.connected).toBe(false);
    broker.heal(['x']);
    expect(x.connected).toBe(true);
    expect(y.connected).toBe(false);
  });

  it('end() leaves the broker: listeners hear false, publishes reject, the id is free again', async () => {
    const broker = new MemoryBroker();
    const a = broker.client('a');
    const events: boolean[] = [];
    const off = a.onConnection((up) => events.push(up));
    a.end();
    expect(events).toEqual([false]);
    off();
    await expect(a.publish('t', enc('x'))).rejects.toMatchObject({ code: 'BUS_NOT_CONNECTED' });
    expect(broker.clientIds()).toEqual([]);
    expect(broker.client('a').connected).toBe(true);
  });
});
