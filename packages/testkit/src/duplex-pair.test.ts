import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { duplexPair } from './duplex-pair.js';

describe('duplexPair', () => {
  it('carries bytes both ways and ends each side when the other ends', async () => {
    const [a, b] = duplexPair();
    const fromA: Buffer[] = [];
    const fromB: Buffer[] = [];
    b.on('data', (c: Buffer) => fromA.push(c));
    a.on('data', (c: Buffer) => fromB.push(c));
    const bEnded = new Promise((r) => b.on('end', r));
    const aEnded = new Promise((r) => a.on('end', r));
    a.write('hello ');
    b.write('back');
    a.end('world');
    b.end();
    await Promise.all([aEnded, bEnded]);
    expect(Buffer.concat(fromA).toString()).toBe('hello world');
    expect(Buffer.concat(fromB).toString()).toBe('back');
  });

  it('applies backpressure: a writer waits until the other side reads', async () => {
    const [a, b] = duplexPair({ highWaterMark: 16 });
    const chunk = Buffer.alloc(1024, 7);
    let okWrites = 0;
    for (let i = 0; i < 10 && a.write(chunk); i++) okWrites++;
    expect(okWrites).toBeLessThan(10);
    let total = 0;
    const sink = new Writable({ write: (c: Buffer, _e, cb) => ((total += c.length), cb()) });
    const done = pipeline(b, sink);
    a.end();
    await done;
    expect(total).toBe(1024 * (okWrites + 1));
  });

  it('moves a large stream intact', async () => {
    const [a, b] = duplexPair();
    const data = Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 31) & 0xff));
    const parts: Buffer[] = [];
    await Promise.all([
      pipeline(Readable.from([data.subarray(0, 300_000), data.subarray(300_000)]), a),
      pipeline(b, new Writable({ write: (c: Buffer, _e, cb) => (parts.push(c), cb()) })),
    ]);
    expect(Buffer.concat(parts).equals(data)).toBe(true);
  });
});
