// Red team: a noisy reader. A Wiegand reader with a missing ground spams phantom codes, each one
// "new": the rate limit must bound what reaches the feed AND what reaches the journal (the SD
// card), and no uid may appear in any log line, however the read looks.
import { Writable } from 'node:stream';
import { cardRef, type CardUid } from '@keymesh/protocol';
import { TEST_CARD_KEY } from '@keymesh/testkit/site';
import { createLogger } from '../log.js';
import type { Reader } from '../drivers/types.js';
import { Taps } from './taps.js';

function fakeReader() {
  const reads: Array<(uid: CardUid, at: number) => void> = [];
  const errors: Array<(err: Error) => void> = [];
  const reader = {
    onRead: (l: (uid: CardUid, at: number) => void) => (reads.push(l), () => undefined),
    onError: (l: (err: Error) => void) => (errors.push(l), () => undefined),
  } as unknown as Reader;
  return { reader, read: (uid: string, at: number) => reads.forEach((l) => l(uid as CardUid, at)), error: (e: Error) => errors.forEach((l) => l(e)) };
}

function capture() {
  const lines: string[] = [];
  const dest = new Writable({ write(chunk, _enc, cb) { lines.push(...String(chunk).split('\n').filter(Boolean)); cb(); } });
  return { lines, log: createLogger({ level: 'debug', destination: dest }) };
}

const flush = () => new Promise((r) => setImmediate(r));

test('a phantom-code storm: appends and log lines are both bounded by the rate limit, not one per phantom', async () => {
  const r = fakeReader();
  const { lines, log } = capture();
  const taps: string[] = [];
  const t = new Taps({
    reader: r.reader, settings: { tapRepeatMs: 1500, unknownRepeatMs: 60_000, unknownBurst: 5, unknownIntervalMs: 10_000, unknownMemory: 256 },
    toRef: (uid) => cardRef(TEST_CARD_KEY, uid), known: () => false, tap: (ref) => taps.push(ref), log,
  });
  // 10 000 distinct phantom codes within one minute (one every 6 ms).
  for (let i = 0; i < 10_000; i++) r.read((0x10000000 + i).toString(16), 1_000_000 + i * 6);
  t.stop();
  await flush();
  // Burst 5, then one per 10 s over 60 s: at most 11 reach the controller (each one an append).
  expect(taps.length).toBeLessThanOrEqual(11);
  expect(taps.length).toBeGreaterThanOrEqual(5);
  // The journal: a summary now and then, not one line per dropped phantom.
  expect(lines.length).toBeLessThanOrEqual(20);
  expect(lines.join('\n')).toMatch(/dropped/);
});

test('a driver handing over a non-canonical uid (control characters, a forged log line) neither throws into the driver nor logs the text', async () => {
  const r = fakeReader();
  const { lines, log } = capture();
  const taps: string[] = [];
  const t = new Taps({
    reader: r.reader, settings: { tapRepeatMs: 1500, unknownRepeatMs: 60_000, unknownBurst: 5, unknownIntervalMs: 10_000, unknownMemory: 256 },
    toRef: (u) => cardRef(TEST_CARD_KEY, u), known: () => false, tap: (ref) => taps.push(ref), log,
  });
  const evil = '0a1b2c3d4e\n{"ev":"forged"}\u001b[2J';
  // Before the fix cardRef's refusal escaped from read() into the driver's data handler.
  expect(() => r.read(evil, 1)).not.toThrow();
  expect(() => r.read('0A1B2C3D4E', 2)).not.toThrow();
  // A good read after the bad ones still passes, and is logged by reference only.
  r.read('0a1b2c3d4f', 3);
  t.stop();
  await flush();
  expect(taps).toEqual([cardRef(TEST_CARD_KEY, '0a1b2c3d4f' as CardUid)]);
  const text = lines.join('\n');
  expect(lines.length).toBeGreaterThan(0);
  for (const secret of ['0a1b2c3d4', '0A1B2C3D4', 'forged', '\u001b']) expect(text).not.toContain(secret);
});
