import { fakeGpioTools } from '@keymesh/testkit/fake-gpio-tools/fake-gpio-tools';
import { lineKey } from '@keymesh/testkit/fake-gpio-tools/state';
import { eventually } from '@keymesh/testkit/processes';
import { readerSuite } from '@keymesh/testkit/driver-suites/reader-suite';
import { wiegandBits, wiegandEdges, type WiegandEdge } from '@keymesh/testkit/reader-frames';
import type { CardUid } from '@keymesh/protocol';
import { normaliseCardUid } from '@keymesh/protocol';
import { openReader, type EdgeCallback, type WatchEdges } from './index.js';
import { decodeWiegandFrame, parityOk, WiegandDecoder, type WiegandEvent, type WiegandOptions } from './wiegand-decoder.js';
import type { DriverEnv } from '../env.js';

const env: DriverEnv = { log: () => {}, now: () => Date.now() };
const opts: WiegandOptions = { formats: [26, 34], gapMs: 25, minPulseUs: 10, maxPulseUs: 500 };
const out = (events: WiegandEvent[]) => events.map((e) => (e.kind === 'uid' ? `${e.bits}:${e.uid}` : `error: ${e.detail}`));

/** Feeds edges to a decoder and ends the frame, as the driver's gap timer would. */
function decode(edges: readonly WiegandEdge[], o: Partial<WiegandOptions> = {}): string[] {
  const d = new WiegandDecoder({ ...opts, ...o });
  const events: WiegandEvent[] = [];
  for (const e of edges) events.push(...d.edge(e.line, e.rising, e.atUs));
  events.push(...d.end());
  return out(events);
}

describe('Wiegand 26/34 decoding', () => {
  it('reads a Wiegand 26 frame as facility,number (3 bytes)', () => {
    // facility 123, number 45678: the print "123,45678"
    const uid = normaliseCardUid('123,45678', 'facility');
    expect(uid).toBe('7bb26e');
    expect(decode(wiegandEdges(wiegandBits(26, uid)))).toEqual(['26:7bb26e']);
  });

  it('checks parity exactly: bit 0 even over bits 1-12, bit 25 odd over bits 13-24', () => {
    // facility 1, number 1: data 00000001 0000000000000001; first 12 data bits hold one 1, last 12 one 1
    const bits = [1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0];
    expect(parityOk(bits)).toBe(true);
    expect(out([decodeWiegandFrame(bits, [26])])).toEqual(['26:010001']);
    // a 1 moved across the halves' boundary (bit 12 → 13) keeps the count of ones but not the halves' parity
    const moved = [...bits];
    moved[8] = 0;
    moved[13] = 1;
    expect(parityOk(moved)).toBe(false);
    for (const i of [0, 5, 12, 13, 20, 25]) {
      const flipped = [...bits];
      flipped[i] = 1 - flipped[i]!;
      expect(out([decodeWiegandFrame(flipped, [26])])).toEqual([expect.stringContaining('wrong parity')]);
    }
  });

  it('reads a Wiegand 34 frame as the 32-bit number (4 bytes; parity over 16 and 16 bits)', () => {
    const bits = wiegandBits(34, '00bc614e');
    // even parity over bits 1-16 (0x00bc: 5 ones → 1), odd over bits 17-32 (0x614e: 7 ones → 0)
    expect([bits[0], bits[33]]).toEqual([1, 0]);
    expect(decode(wiegandEdges(bits))).toEqual(['34:00bc614e']);
    const bad = [...bits];
    bad[33] = 1;
    expect(decode(wiegandEdges(bad))).toEqual([expect.stringContaining('wrong parity')]);
  });

  it('refuses a frame with a missing bit (25 bits) or a length not configured', () => {
    const bits = wiegandBits(26, '7bb26e');
    expect(decode(wiegandEdges(bits.slice(0, 25)))).toEqual([expect.stringContaining('frame of 25 bits')]);
    expect(decode(wiegandEdges(wiegandBits(34, '00bc614e')), { formats: [26] as const })).toEqual([expect.stringContaining('frame of 34 bits; this reader takes 26')]);
  });

  it('refuses phantom noise: a few random bits', () => {
    expect(decode(wiegandEdges([1, 0, 1]))).toEqual([expect.stringContaining('frame of 3 bits')]);
    expect(decode(wiegandEdges([0]))).toEqual([expect.stringContaining('frame of 1 bits')]);
  });

  it('refuses a glitch: both lines low at once', () => {
    const bits = wiegandBits(26, '7bb26e');
    const edges = wiegandEdges(bits);
    // D1 falls while D0's pulse of a 0 bit is still low (crosstalk), adding a 27th bit
    const i = bits.indexOf(0, 3);
    const t = edges[2 * i]!.atUs;
    edges.splice(2 * i + 1, 0, { line: 1, rising: false, atUs: t + 20 }, { line: 1, rising: true, atUs: t + 30 });
    expect(decode(edges)).toEqual([expect.stringContaining('both Wiegand lines low')]);
  });

  it('refuses a pulse too short, even when the frame length and parity would pass', () => {
    const edges = wiegandEdges(wiegandBits(26, '7bb26e'));
    edges[11] = { ...edges[11]!, atUs: edges[10]!.atUs + 3 }; // bit 5's pulse 3 µs long
    expect(decode(edges)).toEqual([expect.stringContaining('too short')]);
  });

  it('works from falling edges alone (a source that reports no rising edges)', () => {
    const falling = wiegandEdges(wiegandBits(26, '7bb26e')).filter((e) => !e.rising);
    expect(decode(falling)).toEqual(['26:7bb26e']);
  });

  it('a gap ends a frame by the edges\' own timestamps: two frames back to back read as two', () => {
    const a = wiegandEdges(wiegandBits(26, '7bb26e'), { startUs: 0 });
    const b = wiegandEdges(wiegandBits(34, 'deadbeef'), { startUs: 26 * 2000 + 30_000 });
    expect(decode([...a, ...b])).toEqual(['26:7bb26e', '34:deadbeef']);
    // the same frames with a 20 ms gap are one 60-bit frame
    const c = wiegandEdges(wiegandBits(34, 'deadbeef'), { startUs: 26 * 2000 + 20_000 });
    expect(decode([...a, ...c])).toEqual([expect.stringContaining('frame of 60 bits')]);
  });

  it('noise spoils only its own frame', () => {
    const a = wiegandEdges([1, 0, 1], { startUs: 0 });
    const b = wiegandEdges(wiegandBits(26, '7bb26e'), { startUs: 100_000 });
    expect(decode([...a, ...b])).toEqual([expect.stringContaining('3 bits'), '26:7bb26e']);
  });
});

/** An injected edge source: the test sends edges as the gpio family's watchEdges would, with ns timestamps. */
function edgeSeam(bits: 26 | 34) {
  let cb: EdgeCallback | undefined;
  let lines: readonly number[] = [];
  let clockUs = 1_700_000_000e6;
  const watchEdges: WatchEdges = async (l, callback) => {
    lines = l;
    cb = callback;
    return { close: async () => void (cb = undefined) };
  };
  const send = async (edges: readonly WiegandEdge[]) => {
    clockUs += 1e6;
    for (const e of edges) cb?.(lines[e.line]!, e.rising, BigInt(Math.round((clockUs + e.atUs) * 1000)));
  };
  return {
    watchEdges,
    send,
    raw: (line: number, rising: boolean, atNs: bigint) => cb?.(line, rising, atNs),
    get lines() {
      return lines;
    },
    get watching() {
      return cb !== undefined;
    },
    open: () => openReader('reader', { driver: 'wiegand', d0: 17, d1: 27, edges: 'gpiod', formats: [bits], gapMs: 25, minPulseUs: 10, maxPulseUs: 500 }, env, { watchEdges }),
  };
}

const s26 = edgeSeam(26);
readerSuite('wiegand26', {
  uids: ['7bb26e', '00ffff'],
  open: s26.open,
  presentGood: (uid) => s26.send(wiegandEdges(wiegandBits(26, uid))),
  presentGarbage: () => s26.send(wiegandEdges(wiegandBits(26, '7bb26e').slice(0, 25))),
});

const s34 = edgeSeam(34);
readerSuite('wiegand34', {
  uids: ['00bc614e', 'deadbeef'],
  open: s34.open,
  presentGood: (uid) => s34.send(wiegandEdges(wiegandBits(34, uid))),
  presentGarbage: () => {
    const bits = wiegandBits(34, '00bc614e');
    bits[0] = 1 - bits[0]!;
    return s34.send(wiegandEdges(bits));
  },
});

describe('wiegand reader', () => {
  it('watches D0 and D1 as configured, ignores other lines, and stops watching on close', async () => {
    const seam = edgeSeam(26);
    const reader = await seam.open();
    expect(seam.lines).toEqual([17, 27]);
    const reads: CardUid[] = [];
    const errors: Error[] = [];
    reader.onRead((u) => reads.push(u));
    reader.onError((e) => errors.push(e));
    // edges of another line in the same frame change nothing
    const t0 = 1_800_000_000_000_000_000n;
    for (const e of wiegandEdges(wiegandBits(26, '7bb26e'))) {
      seam.raw(e.line ? 27 : 17, e.rising, t0 + BigInt(e.atUs * 1000));
      seam.raw(22, e.rising, t0 + BigInt(e.atUs * 1000 + 7));
    }
    for (let i = 0; i < 100 && reads.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(reads).toEqual(['7bb26e']);
    expect(errors).toEqual([]);
    expect(seam.watching).toBe(true);
    await reader.close();
    expect(seam.watching).toBe(false);
  });

  it('on onoff edges (falling only, stamped on arrival) bunched wake-ups are not taken for both lines low', async () => {
    const result = async (edges: 'gpiod' | 'onoff') => {
      const seam = edgeSeam(26);
      const reader = await openReader('reader', { driver: 'wiegand', d0: 17, d1: 27, edges, formats: [26], gapMs: 25, minPulseUs: 10, maxPulseUs: 500 }, env, { watchEdges: seam.watchEdges });
      const seen: string[] = [];
      reader.onRead((u) => seen.push(u));
      reader.onError((e) => seen.push(e.message));
      // the process woke late: all 26 falling edges arrive 20 µs apart
      await seam.send(wiegandEdges(wiegandBits(26, '7bb26e'), { intervalUs: 20 }).filter((e) => !e.rising));
      await eventually('a result', () => (seen.length > 0 ? true : undefined), 5000, 5);
      await reader.close();
      return seen;
    };
    expect(await result('onoff')).toEqual(['7bb26e']);
    expect(await result('gpiod')).toEqual([expect.stringContaining('both Wiegand lines low')]);
  });

  it('refuses d0 = d1 and an empty format list in config, naming the fix', async () => {
    const { wiegandReaderSchema } = await import('./schemas.js');
    expect(wiegandReaderSchema.safeParse({ driver: 'wiegand', d0: 5, d1: 5 }).error?.issues[0]?.message).toContain('two different GPIO lines');
    expect(wiegandReaderSchema.safeParse({ driver: 'wiegand', d0: 5, d1: 6, formats: [] }).error?.issues[0]?.message).toContain('[26, 34]');
    expect(wiegandReaderSchema.parse({ driver: 'wiegand', d0: 5, d1: 6 })).toEqual({ driver: 'wiegand', d0: 5, d1: 6, edges: 'gpiod', formats: [26, 34], gapMs: 25, minPulseUs: 10, maxPulseUs: 500 });
  });
});

describe('wiegand reader over gpiomon (the gpio family\'s edge source, fake libgpiod tools)', () => {
  let cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups) await c();
    cleanups = [];
  });
  for (const version of ['1.6', '2'] as const) {
    it(`reads a frame and refuses a short one (libgpiod v${version})`, async () => {
      const tools = fakeGpioTools({ version });
      cleanups.push(async () => tools.remove());
      // Wiegand lines idle high (the reader's pull-ups)
      tools.setPull('gpiochip0', 20, true);
      tools.setPull('gpiochip0', 21, true);
      const reader = await openReader(
        'reader',
        { driver: 'wiegand', d0: 20, d1: 21, edges: 'gpiod', formats: [26], gapMs: 500, minPulseUs: 10, maxPulseUs: 500 },
        env,
        { edgeDeps: { toolsEnv: tools.env } },
      );
      cleanups.unshift(() => reader.close());
      const reads: CardUid[] = [];
      const errors: Error[] = [];
      reader.onRead((u) => reads.push(u));
      reader.onError((e) => errors.push(e));
      await eventually('gpiomon on the lines', () => (tools.state.holder(lineKey('gpiochip0', 21))?.tool === 'gpiomon' ? true : undefined), 10_000, 10);
      // Facility 0, number 0: 25 zeros on D0, then the odd parity bit, a 1, on D1. Each line's
      // edges are in time order, and D0 is written first. The fake tool tails each line's file on
      // a timer of its own, so D1's edge is written 100 ms later (its time stamp is still the
      // frame's): a real gpiomon reports one request's lines in kernel order.
      const send = async (zeros: number) => {
        const t0 = BigInt(Date.now()) * 1_000_000n;
        const edges = wiegandEdges([...Array(zeros).fill(0), 1], { startUs: 0 });
        const at = (e: WiegandEdge): [boolean, bigint] => [e.rising, t0 + BigInt(e.atUs * 1000)];
        tools.state.drive(lineKey('gpiochip0', 20), edges.filter((e) => e.line === 0).map(at));
        await new Promise((r) => setTimeout(r, 100));
        tools.state.drive(lineKey('gpiochip0', 21), edges.filter((e) => e.line === 1).map(at));
      };
      await send(25);
      await eventually(
        'a read',
        () => {
          if (errors.length > 0) throw errors[0]!;
          return reads.length > 0 ? true : undefined;
        },
        10_000,
        10,
      );
      await send(24);
      await eventually('an error', () => (errors.length > 0 ? true : undefined), 10_000, 10);
      expect(reads).toEqual(['000000']);
      expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('frame of 25 bits')]);
    });
  }
});
