/**
 * The controllers' settings, as zod schemas for the agent's config (each field documented and
 * defaulted). What the rules say (a resource's unlockSeconds, idleTimeoutSeconds) wins; these
 * are the node's own wiring and timings, and fallbacks for when the rules do not know the
 * resource yet.
 */
import { z } from 'zod';

const seconds = (max: number) => z.number().int().min(1).max(max);

/** Per reader: what counts as one tap (tap-filter.ts). */
export const TapSettings = z.strictObject({
  tapRepeatMs: z.number().int().min(100).max(60_000).default(1500)
    .describe('reads of the same card closer together than this (ms, measured from the previous read) are one tap: a badge held on a reader reads many times'),
  unknownRepeatMs: z.number().int().min(1000).max(3_600_000).default(60_000)
    .describe('an unknown card is passed on (and logged) once per this many ms; its other reads are dropped'),
  unknownBurst: z.number().int().min(1).max(100).default(5)
    .describe('how many distinct unknown cards a reader may pass on at once before the rate limit applies (a missing ground makes a Wiegand reader spam phantom codes)'),
  unknownIntervalMs: z.number().int().min(100).max(3_600_000).default(10_000)
    .describe('after the burst, one more distinct unknown card is passed on per this many ms; a card dropped by the limit is not remembered, so tapping it again later passes'),
  unknownMemory: z.number().int().min(1).max(10_000).default(256)
    .describe('how many recently seen unknown cards a reader remembers (bounded, oldest forgotten first)'),
});
export type TapSettings = z.infer<typeof TapSettings>;

export const DoorSettings = z.strictObject({
  lock: z.enum(['fail_secure', 'fail_safe']).default('fail_secure')
    .describe('fail_secure: an electric strike, energised to unlock (stays locked without power); fail_safe: a maglock, energised to lock (releases without power, for fire egress). The agent keeps the door locked in both cases; the type only says which relay level locks it'),
  unlockSecondsFallback: seconds(600).default(5)
    .describe("seconds a door stays unlocked when the rules do not (yet) give the resource's unlockSeconds"),
  heldOpenSeconds: seconds(3600).default(30)
    .describe('an open door raises the held-open alarm after this many seconds'),
  exitButtonUnlocks: z.boolean().default(true)
    .describe('true: the request-to-exit button unlocks the door (electric lock on the way out too); false: the door opens mechanically from inside and the button only marks the opening as an exit (no forced-open alarm)'),
  relockOnClose: z.boolean().default(true)
    .describe('lock again as soon as the door closes after opening, instead of waiting for the unlock time to run out (no tailgating on the same unlock)'),
  denyFlashMs: z.number().int().min(100).max(10_000).default(1000)
    .describe('how long the red LED stays lit after a refused tap'),
});
export type DoorSettings = z.infer<typeof DoorSettings>;

export const MachineSettings = z.strictObject({
  idleTimeoutSecondsFallback: seconds(86_400).nullable().default(null)
    .describe("idle timeout (seconds) when the rules do not (yet) know the resource; null: none. A resource's own idleTimeoutSeconds (null included) wins"),
  idleWarningSeconds: seconds(3600).default(60)
    .describe('warning beeps start this many seconds before an idle session is powered off'),
  idleWarnBeepSeconds: seconds(600).default(10)
    .describe('seconds between warning beeps'),
  trainerWindowSeconds: seconds(600).default(30)
    .describe("after a trainer's tap, a trainee tapping within this many seconds is certified (trainer.ts)"),
  denyFlashMs: z.number().int().min(100).max(10_000).default(1000)
    .describe('how long the red LED stays lit after a refused tap'),
});
export type MachineSettings = z.infer<typeof MachineSettings>;
