/**
 * The door controller: a state machine over the lock relay, the door sensor, the exit button,
 * the LEDs and the buzzer.
 *
 * Safe state (decided here): while the agent runs, safe means **locked**. For a `fail_secure`
 * strike that is the relay off; for a `fail_safe` maglock (energised to lock) it is the relay
 * on. What the door does when the agent is gone and the line is released, or the power is
 * lost, is the lock type's choice made in config and wiring: a strike stays locked, a maglock
 * releases (fire egress). `safe()` and `start()` drive every output to that state at once;
 * `safe()` records nothing, so an exit path that cannot wait may call it.
 *
 * A tap: decide → drive the relay → record the decision, then the `unlocked` event. The relay
 * never waits on a record. Events (DoorEvent): `unlocked` (with its cause), `locked`, `opened`,
 * `closed`, `forced` (opened while locked and no exit was requested), `held_open` (open longer
 * than `heldOpenSeconds`), `exit_request` (the exit button when it does not unlock).
 * Published state: an alarm (forced, held_open) wins over open, which wins over the lock state.
 */
import type { BodyOf, DecisionReason, DoorCause } from '@keymesh/protocol';
import type { Buzzer, DigitalInput, Output } from '../drivers/types.js';
import type { ControllerContext } from './context.js';
import { Feedback } from './feedback.js';
import { DoorSettings } from './settings.js';

export interface DoorOptions {
  resource: string;
  ctx: ControllerContext;
  /** The lock's relay: `true` energises it (unlocks a strike, locks a maglock). */
  relay: Output;
  /** Active when the door is open (a reed switch). */
  doorSensor?: DigitalInput;
  /** Request-to-exit button: active when pressed. */
  exitButton?: DigitalInput;
  greenLed?: Output;
  redLed?: Output;
  buzzer?: Buzzer;
  settings?: Partial<DoorSettings>;
  /** The resource's unlockSeconds from the rules; undefined while the rules do not know it (settings.unlockSecondsFallback). */
  unlockSeconds?: () => number | undefined;
}

type DoorState = 'locked' | 'unlocked' | 'open' | 'held_open' | 'forced';

/** Remote commands remembered so none opens the door twice (the agent's replay cache is the durable guard). */
const MAX_REMEMBERED_COMMANDS = 256;

export class DoorController {
  readonly settings: DoorSettings;
  private readonly feedback: Feedback;
  private unlocked = false;
  private unlockedBy: string | null = null;
  private doorOpen = false;
  private alarm: 'forced' | 'held_open' | null = null;
  /** Until when an opening counts as an exit (exit button that does not unlock). */
  private exitUntil = 0;
  private relockTimer: ReturnType<typeof setTimeout> | null = null;
  private heldTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly commands = new Set<string>();
  private readonly unwatch: Array<() => void> = [];
  private published: DoorState | null = null;

  constructor(private readonly opts: DoorOptions) {
    this.settings = DoorSettings.parse(opts.settings ?? {});
    this.feedback = new Feedback(opts, this.settings.denyFlashMs);
  }

  /** Drives every output safe (locked, LEDs and buzzer off), then watches the inputs. */
  start(): void {
    this.safe();
    const { doorSensor, exitButton } = this.opts;
    if (doorSensor) this.unwatch.push(doorSensor.watch((open) => this.onDoorSensor(open)));
    if (exitButton) this.unwatch.push(exitButton.watch((pressed) => { if (pressed) this.onExitButton(); }));
    this.doorOpen = doorSensor?.read() ?? false;
    // Found open at start: nobody knows how it got so; not forced, but it may be held open.
    if (this.doorOpen) this.startHeldTimer();
    this.publish();
  }

  /** Stops watching and drives the outputs safe (records nothing: a door has no session to close). */
  shutdown(): void {
    for (const u of this.unwatch.splice(0)) u();
    this.safe();
  }

  /** The same as `shutdown()`. */
  stop(): void {
    this.shutdown();
  }

  /** Synchronously: lock, LEDs off, buzzer off, timers cleared. Records nothing. */
  safe(): void {
    this.clearTimer('relock');
    this.clearTimer('held');
    this.opts.relay.write(this.lockLevel());
    this.unlocked = false;
    this.unlockedBy = null;
    this.alarm = null;
    this.feedback.safe();
  }

  get state(): DoorState {
    if (this.alarm) return this.alarm;
    if (this.doorOpen) return 'open';
    return this.unlocked ? 'unlocked' : 'locked';
  }

  /** A card reference passed by the tap filter. */
  tap(card: string): void {
    const { ctx } = this.opts;
    const d = ctx.decide(card);
    if (d.allow && d.member !== null) {
      this.unlock(d.member);
      this.recordDecision(card, d.allow, d.reason, d.member);
      this.event('unlocked', { kind: 'tap', member: d.member, card });
      ctx.say(`${d.member}: ${d.message}`, 'ok');
    } else {
      this.feedback.denied();
      this.recordDecision(card, false, d.reason, d.member);
      ctx.say(d.message, 'deny');
    }
    this.publish();
  }

  /**
   * An admin's remote unlock, already verified by the agent (protocol `verifyCommand`, its
   * replay cache saved). Acts once per command id. Returns whether the door was unlocked.
   */
  remoteUnlock(c: { command: string; issuer: string }): boolean {
    if (this.commands.has(c.command)) return false;
    this.commands.add(c.command);
    if (this.commands.size > MAX_REMEMBERED_COMMANDS) this.commands.delete(this.commands.values().next().value!);
    this.unlock(null);
    this.event('unlocked', { kind: 'command', command: c.command, issuer: c.issuer });
    this.opts.ctx.say('unlocked remotely by an admin', 'info');
    this.publish();
    return true;
  }

  private onExitButton(): void {
    if (this.settings.exitButtonUnlocks) {
      this.unlock(null, false);
      this.event('unlocked', { kind: 'exit_button' });
    } else {
      this.exitUntil = this.opts.ctx.now() + this.unlockMs();
      this.event('exit_request', { kind: 'exit_button' });
    }
    this.publish();
  }

  private onDoorSensor(open: boolean): void {
    if (open === this.doorOpen) return;
    this.doorOpen = open;
    const { ctx } = this.opts;
    if (open) {
      if (this.unlocked || ctx.now() < this.exitUntil) {
        this.event('opened', null);
        this.startHeldTimer();
      } else {
        this.alarm = 'forced';
        this.feedback.alarm();
        this.event('forced', null);
        ctx.say('door forced open', 'alarm');
      }
    } else {
      this.clearTimer('held');
      this.exitUntil = 0;
      if (this.alarm) {
        this.alarm = null;
        this.feedback.alarmOff();
      }
      this.event('closed', null);
      if (this.unlocked && this.settings.relockOnClose) this.lock();
    }
    this.publish();
  }

  /** Relay first: energise or release to unlock, then the relock timer (extended by a new unlock). */
  private unlock(member: string | null, beep = true): void {
    this.opts.relay.write(!this.lockLevel());
    this.unlocked = true;
    this.unlockedBy = member;
    this.feedback.granted(beep);
    this.clearTimer('relock');
    this.relockTimer = setTimeout(() => {
      this.relockTimer = null;
      this.lock();
      this.publish();
    }, this.unlockMs());
  }

  private lock(): void {
    this.clearTimer('relock');
    this.opts.relay.write(this.lockLevel());
    this.unlocked = false;
    this.unlockedBy = null;
    this.feedback.ended();
    this.event('locked', null);
  }

  private startHeldTimer(): void {
    this.clearTimer('held');
    this.heldTimer = setTimeout(() => {
      this.heldTimer = null;
      this.alarm = 'held_open';
      this.feedback.alarm();
      this.event('held_open', null);
      this.opts.ctx.say(`door held open for more than ${this.settings.heldOpenSeconds} s`, 'alarm');
      this.publish();
    }, this.settings.heldOpenSeconds * 1000);
  }

  private clearTimer(which: 'relock' | 'held'): void {
    const t = which === 'relock' ? this.relockTimer : this.heldTimer;
    if (t !== null) clearTimeout(t);
    if (which === 'relock') this.relockTimer = null;
    else this.heldTimer = null;
  }

  /** The relay level that locks: a maglock (fail_safe) is energised to lock. */
  private lockLevel(): boolean {
    return this.settings.lock === 'fail_safe';
  }

  private unlockMs(): number {
    return (this.opts.unlockSeconds?.() ?? this.settings.unlockSecondsFallback) * 1000;
  }

  private recordDecision(card: string, allow: boolean, reason: DecisionReason, member: string | null): void {
    const { ctx, resource } = this.opts;
    ctx.record('access.decision', { resource, credential: { kind: 'card', card }, allow, reason, member, at: ctx.now() });
  }

  private event(event: BodyOf<'door.event'>['event'], cause: DoorCause | null): void {
    const { ctx, resource } = this.opts;
    ctx.record('door.event', { resource, event, at: ctx.now(), cause });
  }

  private publish(): void {
    const s = this.state;
    if (s === this.published) return;
    this.published = s;
    this.opts.ctx.stateChanged(s, s === 'unlocked' ? this.unlockedBy : null);
  }
}
