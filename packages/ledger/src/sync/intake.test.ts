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
