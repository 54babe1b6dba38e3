import type { BusMessage } from '@keymesh/ledger';
import { MemoryBroker } from './memory-broker.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** Subscribes a recorder; returns what it received as "topic=payload" (retained marked "R:"). */
async function recorder(bus: ReturnType<MemoryBroker['client']>, filter: string): Promise<string[]> {
  const got: string[] = [];
  await bus.subscribe(filter, (m: BusMessage) => got.push(`${m.retain ? 'R:' : ''}${m.topic}=${dec(m.payload)}`));
  return got;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { code: string }).code;
  }
  throw new Error('expected a rejection');
}

describe('MemoryBroker: MQTT semantics', () => {
  it('matches + and # filters and keeps $ topics from leading wildcards', async () => {
    const broker = new MemoryBroker();
    const pub = broker.client('pub');
    const sub = broker.client('sub');
    const plus = await recorder(sub, 'feed/+');
    const hash = await recorder(sub, 'feed/#');
    const all = await recorder(sub, '#');
    const sys = await recorder(sub, '$SYS/#');
    for (const t of ['feed/a', 'feed/a/b', 'feed', 'head/a', '$SYS/load']) await pub.publish(t, enc('x'));
    await broker.settle();
    expect(plus).toEqual(['feed/a=x']);
    expect(hash).toEqual(['feed/a=x', 'feed/a/b=x', 'feed=x']);
    expect(all).toEqual(['feed/a=x', 'feed/a/b=x', 'feed=x', 'head/a=x']);
    expect(sys).toEqual(['$SYS/load=x']);
  });

  it('keeps the last retained message per topic, sends it on subscribe flagged retain, and clears it with an empty payload', async () => {
    const broker = new MemoryBroker();
    const pub = broker.client('pub');
    await pub.publish('head/a', enc('1'), { retain: true, qos: 1 });
    await pub.publish('head/a', enc('2'), { retain: true });
    await pub.publish('head/b', enc('3'), { retain: true });
    await pub.publish('head/c', enc('4'));
    const sub = broker.client('sub');
    const got = await recorder(sub, 'head/+');
    await broker.settle();
    expect(got.sort()).toEqual(['R:head/a=2', 'R:head/b=3']);
    await pub.publish('head/a', enc('5'), { retain: true });
    await pub.publish('head/b', new Uint8Array(0), { retain: true });
    await broker.settle();
    // Live deliveries are never flagged retain, even of a retained publish.
    expect(got.slice(2)).toEqual(['head/a=5', 'head/b=']);
    expect([...broker.retained().keys()]).toEqual(['head/a']);
    const late = await recorder(broker.client('late'), '#');
    await broker.settle();
    expect(late).toEqual(['R:head/a=5']);
  });

  it('sends retained messages only to the new subscription, and delivers a publish once per matching handler', async () => {
    const broker = new MemoryBroker();
    const pub = broker.client('pub');
    await pub.publish('t/1', enc('r'), { retain: true });
    const sub = broker.client('sub');
    const first = await recorder(sub, 't/1');
    await broker.settle();
    const second = await recorder(sub, 't/+');
    await broker.settle();
    expect(first).toEqual(['R:t/1=r']);
    expect(second).toEqual(['R:t/1=r']);
    await pub.publish('t/1', enc('live'));
    await broker.settle();
    expect(first).toEqual(['R:t/1=r', 't/1=live']);
    expect(second).toEqual(['R:t/1=r', 't/1=live']);
    expect(broker.stats.delivered).toBe(3);
  });

  it('delivers to the publisher too when it is subscribed (MQTT 3.1.1 has no no-local)', async () => {
    const broker = new MemoryBroker();
    const c = broker.client('c');
    const got = await recorder(c, 'x');
    await c.publish('x', enc('me'));
    await broker.settle();
    expect(got).toEqual(['x=me']);
  });

  it('stops delivering to a handler after unsubscribe', async () => {
    const broker = new MemoryBroker();
    const c = broker.client('c');
    const got: string[] = [];
    const h = (m: BusMessage) => got.push(dec(m.payload));
    await c.subscribe('x', h);
    await c.publish('x', enc('1'));
    await broker.settle();
    await c.unsubscribe('x', h);
    await c.publish('x', enc('2'));
    await broker.settle();
    expect(got).toEqual(['1']);
  });

  it('refuses bad topics, bad filters, QoS 2 and a second client with the same id', async () => {
    const broker = new MemoryBroker();
    const c = broker.client('c');
    expect(await codeOf(c.publish('a/+', enc('x')))).toBe('BUS_BAD_TOPIC');
    expect(await codeOf(c.publish('', enc('x')))).toBe('BUS_BAD_TOPIC');
    expect(await codeOf(c.subscribe('a/#/b', () => {}))).toBe('BUS_BAD_FILTER');
    expect(await codeOf(c.subscribe('a+', () => {}))).toBe('BUS_BAD_FILTER');
    expect(await codeOf(c.publish('a', enc('x'), { qos: 2 as never }))).toBe('BAD_OPTION');
    expect(() => broker.client('c')).toThrow(expect.objectContaining({ code: 'BUS_DUPLICATE_CLIENT' }));
    expect(broker.stats).toMatchObject({ published: 0, rejected: 3 });
  });

  it('copies payloads, so a publisher reusing its buffer changes nothing delivered', async () => {
    const broker = new MemoryBroker();
    const c = broker.client('c');
    const got = await recorder(c, 'x');
    const buf = enc('abc');
    await c.publish('x', buf);
    buf.set(enc('zzz'));
    await broker.settle();
    expect(got).toEqual(['x=abc']);
  });

  it('lets a tap see every accepted publish with its publisher', async () => {
    const broker = new MemoryBroker({ maxPayloadBytes: 4 });
    const seen: string[] = [];
    const off = broker.onPublish((p) => seen.push(`${p.clientId}:${p.topic}:${dec(p.payload)}:${p.qos}:${p.retain}`));
    const a = broker.client('a');
    const b = broker.client('b');
    await a.publish('t', enc('1'), { qos: 1, retain: true });
    await b.publish('u', enc('2'));
    await codeOf(b.publish('u', enc('too big')));
    off();
    await a.publish('t', enc('3'));
    expect(seen).toEqual(['a:t:1:1:true', 'b:u:2:0:false']);
  });

  it('reports deliveries to a delivery tap with receiver and publisher', async () => {
    const broker = new MemoryBroker();
    const seen: string[] = [];
    broker.onDeliver((d) => seen.push(`${d.from}->${d.clientId}:${d.topic}:${d.retain}`));
    const a = broker.client('a');
    await a.publish('t', enc('1'), { retain: true });
    await recorder(broker.client('b'), 't');
    await broker.settle();
    expect(seen).toEqual(['a->b:t:true']);
  });
});

describe('MemoryBroker: delivery schedule', () => {
  it('delivers nothing inside publish; settle() waits for handlers that answer on later turns and timers', async () => {
    const broker = new MemoryBroker();
    const a = broker.client('a');
    const b = broker.client('b');
    const log: string[] = [];
    // b answers each ping after a timer; a answers each pong on the next turn; 5 rounds.
    await b.subscribe('ping', (m) => {
      log.push(`ping${dec(m.payload)}`);
      setTimeout(() => void b.publish('pong', m.payload), 0);
    });
    await a.subscribe('pong', (m) => {
      log.push(`pong${dec(m.payload)}`);
      const n = Number(dec(m.payload));
      if (n < 5) setImmediate(() => void a.publish('ping', enc(String(n + 1))));
    });
    await a.publish('ping', enc('1'));
    expect(log).toEqual([]);
    expect(broker.pending).toBe(1);
    expect(await broker.settle()).toBe(10);
    expect(log).toEqual(['ping1', 'pong1', 'ping2', 'pong2', 'ping3', 'pong3', 'ping4', 'pong4', 'ping5', 'pong5']);
  });

  it('rejects settle() with a handler error', async () => {
    const broker = new MemoryBroker();
    const c = broker.client('c');
    await c.subscribe('x', () => {
      throw new Error('handler broke');
    });
    await c.publish('x', enc('1'));
    await expect(broker.settle()).rejects.toThrow('handler broke');
  });

  it('fails with BUS_RUNAWAY when handlers answer every message forever', async () => {
    const broker = new MemoryBroker({ maxDeliveries: 100 });
    const c = broker.client('c');
    await c.subscribe('echo', (m) => void c.publish('echo', m.payload));
    await c.publish('echo', enc('1'));
    await expect(broker.settle()).rejects.toMatchObject({ code: 'BUS_RUNAWAY' });
  });

  it('delivers by itself in auto mode', async () => {
    const broker = new MemoryBroker({ auto: true });
    const c = broker.client('c');
    const got: string[] = [];
    const both = new Promise<void>((resolve) => {
      void c.subscribe('x', (m) => {
        got.push(dec(m.payload));
        if (got.length === 2) resolve();
      });
    });
    await c.publish('x', enc('1'));
    await c.publish('x', enc('2'));
    expect(got).toEqual([]);
    await both;
    expect(got).toEqual(['1', '2']);
    expect(broker.pending).toBe(0);
  });
});
