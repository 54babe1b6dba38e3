import { describe, it, expect } from '@jest/globals';
import { Intake, INTAKE_SHARE } from './intake.js';

const turn = () => new Promise((r) => setImmediate(r));

describe('Intake', () => {
  it('stores in chunks, turn after turn, and still progresses with a slice of 0 ms', async () => {
    const stored: string[] = [];
    let drained = 0;
    const intake = new Intake((lines) => void stored.push(...lines), () => void drained++, 0);
    intake.push(Array.from({ length: 100 }, (_, i) => `l${i}`), 'peer');
    expect(stored).toHaveLength(0); // nothing within the call that received them
    for (let i = 0; i < 10 && intake.size > 0; i++) await turn();
    expect(stored).toHaveLength(100);
    expect(drained).toBe(1);
  });

  it("keeps each sender to its share: one peer's flood does not crowd out another", () => {
    const intake = new Intake(() => undefined, () => undefined, 8);
    expect(intake.push(Array.from({ length: INTAKE_SHARE + 10 }, () => 'x'), 'flood')).toBe(10);
    expect(intake.push(['y', 'z'], 'upstream')).toBe(0);
  });
});

describe('Intake: joined runs and checks off the event loop', () => {
  it("joins a sender's live lines into one store call, in order, and keeps senders apart", async () => {
    const calls: Array<{ from: string; lines: string[] }> = [];
    const intake = new Intake((lines, from) => void calls.push({ from, lines: [...lines] }), () => undefined, 8, 100);
    for (let i = 0; i < 50; i++) (intake.push([`a${i}`], 'feed/a'), intake.push([`b${i}`], 'feed/b'));
    for (let i = 0; i < 10 && intake.size > 0; i++) await turn();
    expect(calls.map((c) => c.from)).toEqual(['feed/a', 'feed/b']);
    expect(calls[0]!.lines).toEqual(Array.from({ length: 50 }, (_, i) => `a${i}`));
    expect(calls[1]!.lines).toEqual(Array.from({ length: 50 }, (_, i) => `b${i}`));
  });

  it('stores chunks with their checks, in the order queued, even when checks finish out of order', async () => {
    const calls: Array<{ lines: string[]; checks: unknown }> = [];
    let drained = 0;
    const pending: Array<() => void> = [];
    const checker = (lines: string[]) => new Promise<ReadonlyArray<never>>((resolve) => pending.push(() => resolve(lines.map((l) => `checked ${l}`) as never)));
    const intake = new Intake((lines, _from, checks) => void calls.push({ lines: [...lines], checks }), () => void drained++, 8, 2, checker);
    intake.push(['1', '2', '3', '4', '5', '6', '7'], 'peer');
    await turn();
    expect(pending).toHaveLength(3); // three chunks checked ahead, none stored yet, the fourth waits
    pending[2]!(); // the third finishes first: nothing may be stored before the first
    await turn();
    expect(calls).toHaveLength(0);
    pending[0]!();
    pending[1]!();
    for (let i = 0; i < 10 && pending.length < 4; i++) await turn();
    pending[3]!();
    for (let i = 0; i < 20 && intake.size > 0; i++) await turn();
    expect(calls.map((c) => c.lines)).toEqual([['1', '2'], ['3', '4'], ['5', '6'], ['7']]);
    expect(calls[0]!.checks).toEqual(['checked 1', 'checked 2']);
    expect(intake.size).toBe(0);
    expect(drained).toBe(1);
  });

  it('stores a chunk unchecked (the store checks it itself) when the checker fails', async () => {
    const calls: Array<{ lines: string[]; checks: unknown }> = [];
    const intake = new Intake((lines, _from, checks) => void calls.push({ lines: [...lines], checks }), () => undefined, 8, 10, () => Promise.reject(new Error('worker gone')));
    intake.push(['1', '2'], 'peer');
    for (let i = 0; i < 10 && intake.size > 0; i++) await turn();
    expect(calls).toEqual([{ lines: ['1', '2'], checks: undefined }]);
  });
});
