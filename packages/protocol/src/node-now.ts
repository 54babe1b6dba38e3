/**
 * A node's `now` (DESIGN §6, §10): the later of its wall clock and the newest time it has
 * verified from an enrolled coordinator's signed head. A Pi without a clock boots in the past;
 * this keeps it from deciding (membership expiry, schedules, freshness) on a time it has
 * already seen overtaken. Only a coordinator's stamps count, never other entries', and a
 * coordinator's stamp is believed only up to a bound past the time the node already trusts,
 * so a chain of entries cannot ratchet the clock forward.
 */

/** How far past the later of the wall clock and the time at start a coordinator's stamp is believed. */
export const MAX_COORDINATOR_LEAD_MS = 366 * 86_400_000;

/** ms: the later of the wall clock and the newest verified coordinator time (0 or null: none). */
export function nodeNow(wallMs: number, verifiedMs: number | null): number {
  return verifiedMs !== null && verifiedMs > wallMs ? verifiedMs : wallMs;
}

/**
 * May a coordinator's stamp (ms) raise a node's verified time? Only up to
 * MAX_COORDINATOR_LEAD_MS past the later of the wall clock and `baselineMs` (the verified time
 * when the node started): beyond that it is a lie or a broken clock.
 */
export function coordinatorStampBelievable(stampMs: number, wallMs: number, baselineMs: number): boolean {
  return stampMs <= Math.max(baselineMs, wallMs) + MAX_COORDINATOR_LEAD_MS;
}

/** The verified time after a coordinator's stamp: raised if it is newer and believable. */
export function raiseVerifiedTime(verifiedMs: number, stampMs: number, wallMs: number, baselineMs: number): number {
  return stampMs > verifiedMs && coordinatorStampBelievable(stampMs, wallMs, baselineMs) ? stampMs : verifiedMs;
}
