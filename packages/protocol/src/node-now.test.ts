import { describe, it, expect } from '@jest/globals';
import { MAX_COORDINATOR_LEAD_MS, coordinatorStampBelievable, nodeNow, raiseVerifiedTime } from './node-now.js';

const T = 1_700_000_000_000;

describe("a node's now", () => {
  it('is the later of the wall clock and the verified coordinator time', () => {
    expect(nodeNow(T, null)).toBe(T);
    expect(nodeNow(T, 0)).toBe(T);
    expect(nodeNow(T, T + 5)).toBe(T + 5); // a Pi that booted in the past
    expect(nodeNow(T + 9, T + 5)).toBe(T + 9);
  });

  it('a coordinator stamp raises the verified time only forward and only within the lead bound', () => {
    expect(raiseVerifiedTime(T, T + 1000, T - 86_400_000, 0)).toBe(T + 1000);
    expect(raiseVerifiedTime(T + 1000, T, T, 0)).toBe(T + 1000);
    const wall = T;
    expect(coordinatorStampBelievable(wall + MAX_COORDINATOR_LEAD_MS, wall, 0)).toBe(true);
    expect(coordinatorStampBelievable(wall + MAX_COORDINATOR_LEAD_MS + 1, wall, 0)).toBe(false);
    // The bound is measured from the time at start, not from stamps: no ratchet.
    let verified = 0;
    for (let i = 1; i <= 5; i++) verified = raiseVerifiedTime(verified, wall + i * MAX_COORDINATOR_LEAD_MS, wall, 0);
    expect(verified).toBe(wall + MAX_COORDINATOR_LEAD_MS);
  });
});
