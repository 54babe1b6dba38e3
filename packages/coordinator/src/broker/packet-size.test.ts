import { FrameMeter } from './packet-size.js';
import { TokenBucket } from './rate-limit.js';

/** An MQTT packet: type byte, remaining length (variable-length integer), body. */
function packet(type: number, body: Buffer): Buffer {
  const len: number[] = [];
  let n = body.length;
  do {
    len.push((n % 128) | (n >= 128 ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  return Buffer.concat([Buffer.from([type, ...len]), body]);
}
/** A QoS 0 PUBLISH on topic "t" with `bytes` of payload. */
const publish = (bytes: number) => packet(0x30, Buffer.concat([Buffer.from([0, 1, 0x74]), Buffer.alloc(bytes)]));
const pingreq = () => packet(0xc0, Buffer.alloc(0));

describe('FrameMeter', () => {
  it('follows packets across any split, and passes those within the limit', () => {
    const stream = Buffer.concat([publish(10), publish(0), publish(200), pingreq(), publish(1000)]);
    for (const size of [1, 2, 3, 7, 64, stream.length]) {
      const m = new FrameMeter(1010);
      for (let i = 0; i < stream.length; i += size) expect(m.feed(stream.subarray(i, i + size))).toBe(true);
    }
  });

  it('refuses the header announcing a packet over the limit, whatever the split', () => {
    const big = publish(1001);
    expect(big.length).toBeGreaterThan(1006);
    for (const size of [1, 2, 5, big.length]) {
      const m = new FrameMeter(1006);
      let ok = m.feed(publish(3));
      for (let i = 0; ok && i < big.length; i += size) ok = m.feed(big.subarray(i, i + size));
      expect(ok).toBe(false);
    }
    expect(new FrameMeter(big.length).feed(big)).toBe(true);
    expect(new FrameMeter(big.length - 1).feed(big)).toBe(false);
  });

  it('refuses a length field longer than four bytes', () => {
    expect(new FrameMeter(1 << 30).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe(false);
    expect(new FrameMeter(1 << 20).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]))).toBe(false); // 256 MB announced
  });
});

describe('TokenBucket', () => {
  it('lets a burst through, then the rate; a clock that goes back refills nothing', () => {
    const b = new TokenBucket({ perSecond: 10, burst: 3 }, 1000);
    expect([b.take(1000), b.take(1000), b.take(1000), b.take(1000)]).toEqual([true, true, true, false]);
    expect(b.take(1100)).toBe(true); // 100 ms: one token
    expect(b.take(1100)).toBe(false);
    expect(b.take(500)).toBe(false);
    expect([b.take(5000), b.take(5000), b.take(5000), b.take(5000)]).toEqual([true, true, true, false]); // never more than the burst
  });

  it('refuses nonsense rates', () => {
    expect(() => new TokenBucket({ perSecond: 0, burst: 1 }, 0)).toThrow(RangeError);
    expect(() => new TokenBucket({ perSecond: 1, burst: 0 }, 0)).toThrow(RangeError);
  });
});
