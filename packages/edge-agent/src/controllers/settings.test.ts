import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { DoorSettings, MachineSettings, TapSettings } from './settings.js';

describe('controller settings', () => {
  it.each([['TapSettings', TapSettings], ['DoorSettings', DoorSettings], ['MachineSettings', MachineSettings]] as const)('%s: every field is described and defaulted', (_name, schema) => {
    for (const [field, s] of Object.entries(schema.shape)) {
      expect({ field, described: !!(s as z.ZodType).description }).toEqual({ field, described: true });
    }
    expect(() => schema.parse({})).not.toThrow();
  });

  it('defaults', () => {
    expect(DoorSettings.parse({})).toEqual({ lock: 'fail_secure', unlockSecondsFallback: 5, heldOpenSeconds: 30, exitButtonUnlocks: true, relockOnClose: true, denyFlashMs: 1000 });
    expect(MachineSettings.parse({})).toMatchObject({ idleTimeoutSecondsFallback: null, idleWarningSeconds: 60, trainerWindowSeconds: 30 });
    expect(TapSettings.parse({})).toMatchObject({ tapRepeatMs: 1500 });
  });

  it('refuses unknown fields and values out of range, naming the field', () => {
    expect(DoorSettings.safeParse({ lok: 'fail_safe' }).success).toBe(false);
    const bad = MachineSettings.safeParse({ idleWarningSeconds: 0 });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.path).toEqual(['idleWarningSeconds']);
    expect(MachineSettings.safeParse({ trainerWindowSeconds: 1.5 }).success).toBe(false);
  });
});
