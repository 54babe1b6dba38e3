/**
 * The machine controller: a state machine over the machine's power relay (a contactor through
 * a relay), an e-stop input, an optional activity input (a current sensor), the LEDs and the
 * buzzer. Safe state: relay off (no power), LEDs and buzzer off.
 *
 * Decided here:
 * - A tap with no session: decide(); allowed → power on (relay first), then the decision and
 *   the session's start are recorded.
 * - A tap by the session's member (any of their cards) ends it (`tap_out`). A tap by another
 *   allowed member is a handover: the current session ends (`tap_out`) and theirs starts, the
 *   power staying on (they may use the machine; a blip would stop a spindle mid-cut). A tap by
 *   another member who is refused changes nothing but its own recorded refusal.
 * - Idle: with an activity input, idle time runs while the input is inactive; without one, from
 *   the session's start. `idleWarningSeconds` before the power goes off the buzzer warns every
 *   `idleWarnBeepSeconds`; activity resets it. The resource's idleTimeoutSeconds wins (null: no
 *   timeout); the settings' fallback is used while the rules do not know the resource.
 * - Lockout (DESIGN §5): decide() refuses new sessions (LOCKED_OUT, LOCKOUT_PENDING). The agent
 *   calls `recheck()` after rule entries arrive by sync: the running session's card is decided
 *   again; a LOCKOUT_PENDING refusal (when_idle) lets it run, any other refusal (lockout now,
 *   suspension, certification revoked, card withdrawn) ends it at once (`admin`).
 * - E-stop: power off at once, the session ends (`admin`: ended by a lockout), and a lockout
 *   `now` is recorded by this node naming the session's member (DESIGN §5: the policy accepts a
 *   node-signed lockout only with `by` naming a member certified here). With no session there is
 *   nobody to name and the policy would refuse `by: null`, so no entry is recorded: the machine
 *   stays off while the button is pressed, and the panel says so.
 * - Every session is recorded (start; end with seconds powered and reason), offline too: the
 *   record is local. `shutdown()` ends a session (`shutdown`) and goes safe.
 */
import { randomUUID } from 'node:crypto';
import type { BodyOf, Decision } from '@keymesh/protocol';
import type { Buzzer, DigitalInput, Output } from '../drivers/types.js';
import type { ControllerContext } from './context.js';
import { Feedback } from './feedback.js';
import { MachineSettings } from './settings.js';
import { TrainerWindow } from './trainer.js';

export interface MachineOptions {
  resource: string;
  ctx: ControllerContext;
  /** The machine's power (contactor): `true` powers it. */
  relay: Output;
  /** Emergency stop: active when pressed. */
  estop?: DigitalInput;
  /** Active while the machine works (current sensor, spindle): holds off the idle timeout. */
  activity?: DigitalInput;
  greenLed?: Output;
  redLed?: Output;
  buzzer?: Buzzer;
  settings?: Partial<MachineSettings>;
  /** The resource's idleTimeoutSeconds from the rules (null: none); undefined while the rules do not know it. */
  idleTimeoutSeconds?: () => number | null | undefined;
  /** A new session id (an entry Id); default a random UUID. */
  newSessionId?: () => string;
}

type EndReason = NonNullable<BodyOf<'machine.session'>['endReason']>;
type MachineState = 'idle' | 'in_use' | 'locked_out';

interface Session {
  id: string;
  member: string;
  card: string;
  startedAt: number;
}

export class MachineController {
  readonly settings: MachineSettings;
  private readonly feedback: Feedback;
  private readonly trainers: TrainerWindow;
  private session: Session | null = null;
  private estopPressed = false;
  private warnTimer: ReturnType<typeof setTimeout> | null = null;
  private offTimer: ReturnType<typeof setTimeout> | null = null;
  private beepTimer: ReturnType<typeof setInterval> | null = null;
  private readonly unwatch: Array<() => void> = [];
  private published = '';

  constructor(private readonly opts: MachineOptions) {
    this.settings = MachineSettings.parse(opts.settings ?? {});
    this.feedback = new Feedback(opts, this.settings.denyFlashMs);
    this.trainers = new TrainerWindow(opts.ctx, this.settings.trainerWindowSeconds * 1000);
  }

  /** Drives every output safe, then watches the inputs. */
  start(): void {
    this.safe();
    const { estop, activity } = this.opts;
    if (estop) this.unwatch.push(estop.watch((pressed) => (pressed ? this.onEstop() : this.onEstopReleased())));
    if (activity) this.unwatch.push(activity.watch(() => this.scheduleIdle()));
    if (estop?.read()) {
      this.estopPressed = true;
      this.feedback.alarm();
    }
    this.publish();
  }

  /** Ends a running session (`shutdown`), stops watching, drives the outputs safe. */
  shutdown(): void {
    this.opts.relay.write(false);
    if (this.session) this.endSession('shutdown');
    for (const u of this.unwatch.splice(0)) u();
    this.safe();
  }

  /** Synchronously: power off, LEDs and buzzer off, timers cleared. Records nothing. */
  safe(): void {
    this.opts.relay.write(false);
    this.clearIdle();
    this.feedback.safe();
    if (this.estopPressed) this.feedback.alarm();
  }

  get state(): MachineState {
    if (this.session) return 'in_use';
    const lockout = this.opts.ctx.lockout();
    return this.estopPressed || lockout === 'now' || lockout === 'when_idle' ? 'locked_out' : 'idle';
  }

  /** The member whose session runs, if any. */
  get member(): string | null {
    return this.session?.member ?? null;
  }

  /** A card reference passed by the tap filter. */
  tap(card: string): void {
    const { ctx } = this.opts;
    const running = this.session;
    if (running && card === running.card) {
      this.tapOut(running);
      return;
    }
    let d = ctx.decide(card);
    if (running && d.member === running.member) {
      this.tapOut(running);
      return;
    }
    if (this.estopPressed && d.allow) d = { ...d, allow: false, reason: 'LOCKED_OUT', message: 'the emergency stop is pressed; release it, then tap again' };
    if (d.allow && d.member !== null) {
      if (!running) this.opts.relay.write(true);
      this.recordDecision(card, d);
      if (running) this.endSession('tap_out', true);
      this.begin(card, d.member);
      this.trainers.opened(d.member);
      this.feedback.granted();
      ctx.say(running ? `${d.member} takes over from ${running.member}` : `${d.member}: session started`, 'ok');
    } else {
      // No sign-off while the e-stop is held (an emergency is not a training that went well).
      const mayBeTrainee = !this.estopPressed && this.trainers.trainer !== null && d.reason === 'NOT_CERTIFIED';
      // A plain refusal shows at once; its record (a signature, a transaction) follows, as a door's does.
      if (!mayBeTrainee) this.feedback.denied();
      this.recordDecision(card, d);
      const outcome = mayBeTrainee ? this.trainers.trainee(d) : 'not_trainee';
      if (outcome === 'certified') this.feedback.beep('allow');
      else if (mayBeTrainee) this.feedback.denied();
      if (outcome === 'not_trainee') ctx.say(d.message, 'deny');
    }
    this.publish();
  }

  /**
   * Rule entries arrived by sync: the running session's card is decided again. A when_idle
   * lockout (LOCKOUT_PENDING) lets it run; any other refusal, or the card now naming someone
   * else, ends it at once.
   */
  recheck(): void {
    const s = this.session;
    if (s) {
      const d = this.opts.ctx.decide(s.card);
      const ends = d.allow ? d.member !== s.member : d.reason !== 'LOCKOUT_PENDING';
      if (ends) {
        this.endSession('admin');
        this.feedback.denied();
        this.opts.ctx.say(`session of ${s.member} ended: ${d.allow ? 'the card now belongs to someone else' : d.message}`, 'alarm');
      }
    }
    this.publish();
  }

  private tapOut(s: Session): void {
    this.endSession('tap_out');
    this.trainers.opened(s.member);
    this.opts.ctx.say(`${s.member}: session ended`, 'info');
    this.publish();
  }

  private onEstop(): void {
    if (this.estopPressed) return;
    this.estopPressed = true;
    this.opts.relay.write(false);
    // An e-stop ends the training window too: the trainer taps again to certify after it.
    this.trainers.close();
    const s = this.session;
    if (s) this.endSession('admin');
    this.feedback.alarm();
    const { ctx, resource } = this.opts;
    if (s) {
      ctx.record('resource.lockout', { resource, state: 'now', by: s.member, reason: 'emergency stop pressed at the machine' });
      ctx.say(`emergency stop: machine locked out (pressed during ${s.member}'s session); an admin must lift the lockout`, 'alarm');
    } else {
      ctx.say('emergency stop pressed: machine off while it is pressed (no session, so no lockout is recorded)', 'alarm');
    }
    this.publish();
  }

  private onEstopReleased(): void {
    if (!this.estopPressed) return;
    this.estopPressed = false;
    this.feedback.alarmOff();
    this.publish();
  }

  private begin(card: string, member: string): void {
    const { ctx, resource } = this.opts;
    const id = this.opts.newSessionId?.() ?? randomUUID();
    this.session = { id, member, card, startedAt: ctx.now() };
    ctx.record('machine.session', { resource, session: id, member, event: 'start', at: ctx.now(), seconds: null, endReason: null });
    this.scheduleIdle();
  }

  /** Power off first (unless a handover keeps it on), then the session's end is recorded. */
  private endSession(reason: EndReason, keepPower = false): void {
    const s = this.session;
    if (!s) return;
    if (!keepPower) {
      this.opts.relay.write(false);
      this.feedback.ended();
    }
    this.clearIdle();
    this.session = null;
    const { ctx, resource } = this.opts;
    const at = ctx.now();
    const seconds = Math.max(0, Math.round((at - s.startedAt) / 1000));
    ctx.record('machine.session', { resource, session: s.id, member: s.member, event: 'end', at, seconds, endReason: reason });
  }

  /** (Re)starts the idle countdown: on a session's start and on every change of the activity input. */
  private scheduleIdle(): void {
    const wasWarning = this.beepTimer !== null;
    this.clearIdle();
    if (wasWarning) this.opts.buzzer?.off();
    if (!this.session || this.opts.activity?.read()) return;
    const fromRules = this.opts.idleTimeoutSeconds?.();
    const timeout = fromRules === undefined ? this.settings.idleTimeoutSecondsFallback : fromRules;
    if (timeout === null) return;
    const warnAfter = Math.max(0, timeout - this.settings.idleWarningSeconds);
    this.warnTimer = setTimeout(() => {
      this.warnTimer = null;
      this.warn(timeout - warnAfter);
    }, warnAfter * 1000);
    this.offTimer = setTimeout(() => {
      this.offTimer = null;
      const s = this.session;
      this.endSession('idle_timeout');
      this.opts.buzzer?.off();
      this.opts.ctx.say(`${s?.member ?? 'session'}: powered off after ${timeout} s idle`, 'info');
      this.publish();
    }, timeout * 1000);
  }

  private warn(secondsLeft: number): void {
    this.feedback.beep('warn');
    const activity = this.opts.activity ? 'use the machine' : 'tap out and in again';
    this.opts.ctx.say(`idle: power off in ${secondsLeft} s; ${activity} to keep it on`, 'info');
    this.beepTimer = setInterval(() => this.feedback.beep('warn'), this.settings.idleWarnBeepSeconds * 1000);
  }

  private clearIdle(): void {
    if (this.warnTimer !== null) clearTimeout(this.warnTimer);
    if (this.offTimer !== null) clearTimeout(this.offTimer);
    if (this.beepTimer !== null) clearInterval(this.beepTimer);
    this.warnTimer = this.offTimer = this.beepTimer = null;
  }

  private recordDecision(card: string, d: Decision): void {
    const { ctx, resource } = this.opts;
    ctx.record('access.decision', { resource, credential: { kind: 'card', card }, allow: d.allow, reason: d.reason, member: d.member, at: ctx.now() });
  }

  private publish(): void {
    const s = this.state;
    const member = s === 'in_use' ? this.member : null;
    const key = `${s}/${member ?? ''}`;
    if (key === this.published) return;
    this.published = key;
    this.opts.ctx.stateChanged(s, member);
  }
}
