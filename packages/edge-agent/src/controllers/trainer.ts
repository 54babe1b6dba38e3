/**
 * A trainer certifies a trainee at the machine panel (DESIGN §1, §5): the trainer taps, then
 * the trainee taps within the window (30 s by default) and the panel records a `cert.grant`
 * per certification the machine needs and the trainee lacks, signed by this node, `grantedBy`
 * the trainer and naming in `deps` the trainer record `canCertifyAt` judged (so the grant stays
 * judged against that record).
 *
 * How it mixes with sessions (decided here):
 * - Every tap attributed to an allowed member (a session start, a handover, a tap-out) opens
 *   that member's window: any member may be a trainer, and only the trainee's tap tells (the
 *   question is `canCertifyAt(trainer, trainee)`). A trainer usually starts a session by the
 *   same tap; it is not disturbed.
 * - Inside the window, a tap by another member that decide() refuses with NOT_CERTIFIED is
 *   the trainee's. Any other tap is a normal tap: a certified member's tap hands over or ends
 *   the session as usual, and a refusal for another reason (suspended, unknown card, lockout)
 *   is only that refusal.
 * - The window stays open to its end after a grant, so one trainer tap can induct a small
 *   group. The trainee's session does not start by the same tap: the trainee taps again
 *   (the grant is on the local replica by then).
 * - Past the window (31 s), the trainee's tap is an ordinary NOT_CERTIFIED refusal.
 */
import { CERTIFY_REFUSALS, type Decision } from '@keymesh/protocol';
import type { ControllerContext } from './context.js';

export type TraineeOutcome = 'not_trainee' | 'certified' | 'refused';

export class TrainerWindow {
  private window: { trainer: string; until: number } | null = null;

  constructor(private readonly ctx: ControllerContext, private readonly windowMs: number) {}

  /** An allowed member's tap: they may be a trainer; their window opens now. */
  opened(member: string): void {
    this.window = { trainer: member, until: this.ctx.now() + this.windowMs };
  }

  close(): void {
    this.window = null;
  }

  /** The trainer whose window is open now, if any. */
  get trainer(): string | null {
    if (this.window && this.ctx.now() > this.window.until) this.window = null;
    return this.window?.trainer ?? null;
  }

  /**
   * A refused tap (its decision already recorded): is it a trainee's inside the window? If so
   * the grants are recorded (or the refusal said) and the caller does nothing more.
   */
  trainee(d: Decision): TraineeOutcome {
    const trainer = this.trainer;
    if (trainer === null || d.allow || d.reason !== 'NOT_CERTIFIED' || d.member === null || d.member === trainer) return 'not_trainee';
    const trainee = d.member;
    const verdict = this.ctx.canCertify(trainer, trainee);
    if (!verdict.ok) {
      this.ctx.say(`${trainee} not certified: ${CERTIFY_REFUSALS[verdict.reason]}`, 'deny');
      return 'refused';
    }
    for (const cert of verdict.certs) {
      this.ctx.record('cert.grant', { member: trainee, cert, grantedBy: trainer, note: 'certified by the trainer at the machine panel' }, verdict.deps);
    }
    this.ctx.say(`${trainee} certified for ${verdict.certs.join(', ')} by ${trainer}; tap again to start a session`, 'ok');
    return 'certified';
  }
}
