import { describe, expect, it, jest } from '@jest/globals';
import { AccessDecision, MachineSession, ResourceLockout } from '@keymesh/protocol';
import { FakeBuzzer, FakeContext, FakeInput, FakeOutput, decision, fakeClockPerTest } from '@keymesh/testkit/controller-fakes';
import { MachineController, type MachineOptions } from './machine.js';

const ALICE = 'a'.repeat(32);
const ALICE2 = 'a'.repeat(31) + 'b';
const CAROL = 'c'.repeat(32);
const DAVE = 'd'.repeat(32);

function rig(over: Partial<MachineOptions> = {}) {
  const ctx = new FakeContext();
  ctx.cards.set(ALICE, decision(true, 'ALLOWED', 'alice'));
  ctx.cards.set(ALICE2, decision(true, 'ALLOWED', 'alice'));
  ctx.cards.set(CAROL, decision(true, 'ALLOWED', 'carol'));
  ctx.cards.set(DAVE, decision(false, 'NOT_CERTIFIED', 'dave'));
  const d = {
    relay: new FakeOutput('relay'), estop: new FakeInput('estop'), greenLed: new FakeOutput('greenLed'),
    redLed: new FakeOutput('redLed'), buzzer: new FakeBuzzer(),
  };
  let n = 0;
  const m = new MachineController({ resource: 'laser', ctx, ...d, idleTimeoutSeconds: () => null, newSessionId: () => `s${++n}`, ...over });
  return { ctx, ...d, m };
}
const sessions = (ctx: FakeContext) => ctx.of('machine.session').map((b) => MachineSession.parse(b));

fakeClockPerTest();

describe('MachineController', () => {
  it('start drives the power off first; a tap starts a session (power before the records), a second tap ends it with the seconds used', () => {
    const r = rig();
    r.relay.write(true);
    r.m.start();
    expect(r.relay.writes).toEqual([true, false]);
    expect(r.ctx.states).toEqual([{ state: 'idle', member: null }]);
    const relayAtRecord: boolean[] = [];
    r.ctx.onRecord = () => relayAtRecord.push(r.relay.value);
    r.m.tap(ALICE);
    expect(r.relay.value).toBe(true);
    expect(relayAtRecord).toEqual([true, true]);
    expect(AccessDecision.parse(r.ctx.of('access.decision')[0])).toMatchObject({ allow: true, member: 'alice', resource: 'laser' });
    expect(r.ctx.states.at(-1)).toEqual({ state: 'in_use', member: 'alice' });
    expect(r.greenLed.value).toBe(true);
    jest.advanceTimersByTime(90_400);
    r.m.tap(ALICE);
    expect(r.relay.value).toBe(false);
    expect(relayAtRecord.at(-1)).toBe(false);
    expect(sessions(r.ctx)).toEqual([
      expect.objectContaining({ session: 's1', member: 'alice', event: 'start', seconds: null, endReason: null }),
      expect.objectContaining({ session: 's1', member: 'alice', event: 'end', seconds: 90, endReason: 'tap_out' }),
    ]);
    expect(r.ctx.lastState).toBe('idle');
    r.m.shutdown();
  });

  it("the member's other card taps out too", () => {
    const r = rig();
    r.m.start();
    r.m.tap(ALICE);
    r.m.tap(ALICE2);
    expect(sessions(r.ctx).at(-1)).toMatchObject({ event: 'end', endReason: 'tap_out' });
    expect(r.relay.value).toBe(false);
    r.m.shutdown();
  });

  it('another allowed member takes over without a power blip; a refused one changes nothing', () => {
    const r = rig();
    r.m.start();
    r.m.tap(ALICE);
    r.m.tap(DAVE);
    expect(r.m.member).toBe('alice');
    expect(r.redLed.value).toBe(true);
    r.m.tap(CAROL);
    expect(r.relay.writes).toEqual([false, true]);
    expect(sessions(r.ctx).map((s) => [s.session, s.member, s.event, s.endReason])).toEqual([
      ['s1', 'alice', 'start', null], ['s1', 'alice', 'end', 'tap_out'], ['s2', 'carol', 'start', null],
    ]);
    expect(r.ctx.states.at(-1)).toEqual({ state: 'in_use', member: 'carol' });
    r.m.shutdown();
    expect(sessions(r.ctx).at(-1)).toMatchObject({ member: 'carol', endReason: 'shutdown' });
  });

  it('a refused tap with no session: no power, the reason recorded and said', () => {
    const r = rig();
    r.m.start();
    r.m.tap(DAVE);
    expect(r.relay.writes).toEqual([false]);
    expect(r.ctx.of('access.decision')).toEqual([expect.objectContaining({ allow: false, reason: 'NOT_CERTIFIED', member: 'dave' })]);
    expect(r.ctx.said.at(-1)!.tone).toBe('deny');
    expect(r.buzzer.beeps).toEqual(['deny']);
    r.m.shutdown();
  });

  it('idle timeout: warning beeps before the power goes off, then the session ends idle_timeout', () => {
    const r = rig({ idleTimeoutSeconds: () => 300, settings: { idleWarningSeconds: 60, idleWarnBeepSeconds: 10 } });
    r.m.start();
    r.m.tap(ALICE);
    jest.advanceTimersByTime(239_999);
    expect(r.buzzer.beeps).toEqual(['allow']);
    jest.advanceTimersByTime(1);
    expect(r.buzzer.beeps).toEqual(['allow', 'warn']);
    expect(r.ctx.said.at(-1)!.message).toMatch(/power off in 60 s/);
    jest.advanceTimersByTime(30_000);
    expect(r.buzzer.beeps.filter((b) => b === 'warn')).toHaveLength(4);
    expect(r.relay.value).toBe(true);
    jest.advanceTimersByTime(30_000);
    expect(r.relay.value).toBe(false);
    expect(sessions(r.ctx).at(-1)).toMatchObject({ event: 'end', seconds: 300, endReason: 'idle_timeout' });
    expect(r.ctx.lastState).toBe('idle');
    r.m.shutdown();
  });

  it('the activity input holds off the idle timeout and resets it when the machine stops working', () => {
    const activity = new FakeInput('activity');
    const r = rig({ activity, idleTimeoutSeconds: () => 120, settings: { idleWarningSeconds: 30 } });
    r.m.start();
    r.m.tap(ALICE);
    jest.advanceTimersByTime(100_000);
    expect(r.buzzer.beeps).toContain('warn');
    const offsBefore = r.buzzer.offs;
    activity.set(true);
    expect(r.buzzer.offs).toBe(offsBefore + 1);
    jest.advanceTimersByTime(600_000);
    expect(r.relay.value).toBe(true);
    activity.set(false);
    jest.advanceTimersByTime(119_000);
    expect(r.relay.value).toBe(true);
    jest.advanceTimersByTime(1000);
    expect(r.relay.value).toBe(false);
    expect(sessions(r.ctx).at(-1)).toMatchObject({ endReason: 'idle_timeout', seconds: 820 });
    r.m.shutdown();
  });

  it('the settings fallback applies while the rules do not know the resource; null from the rules means no timeout', () => {
    const r = rig({ idleTimeoutSeconds: () => undefined, settings: { idleTimeoutSecondsFallback: 10, idleWarningSeconds: 5 } });
    r.m.start();
    r.m.tap(ALICE);
    jest.advanceTimersByTime(10_000);
    expect(r.relay.value).toBe(false);
    const r2 = rig({ settings: { idleTimeoutSecondsFallback: 10 } });
    r2.m.start();
    r2.m.tap(ALICE);
    expect(jest.getTimerCount()).toBe(0);
    r.m.shutdown();
    r2.m.shutdown();
  });

  it('lockout now arriving mid-session ends it at once (admin) and the machine shows locked out', () => {
    const r = rig();
    r.m.start();
    r.m.tap(ALICE);
    r.ctx.cards.set(ALICE, decision(false, 'LOCKED_OUT', 'alice'));
    r.ctx.lockoutState = 'now';
    r.m.recheck();
    expect(r.relay.value).toBe(false);
    expect(sessions(r.ctx).at(-1)).toMatchObject({ event: 'end', endReason: 'admin' });
    expect(r.ctx.lastState).toBe('locked_out');
    r.m.tap(ALICE);
    expect(r.relay.value).toBe(false);
    expect(r.ctx.of('access.decision').at(-1)).toMatchObject({ allow: false, reason: 'LOCKED_OUT' });
    r.m.shutdown();
  });

  it('lockout when_idle lets the session run to its end and refuses the next', () => {
    const r = rig();
    r.m.start();
    r.m.tap(ALICE);
    r.ctx.cards.set(ALICE, decision(false, 'LOCKOUT_PENDING', 'alice'));
    r.ctx.cards.set(CAROL, decision(false, 'LOCKOUT_PENDING', 'carol'));
    r.ctx.lockoutState = 'when_idle';
    r.m.recheck();
    expect(r.relay.value).toBe(true);
    expect(r.ctx.lastState).toBe('in_use');
    r.m.tap(CAROL);
    expect(r.m.member).toBe('alice');
    expect(r.relay.value).toBe(true);
    r.m.tap(ALICE);
    expect(sessions(r.ctx).at(-1)).toMatchObject({ event: 'end', endReason: 'tap_out' });
    expect(r.ctx.lastState).toBe('locked_out');
    r.m.tap(ALICE);
    expect(r.relay.value).toBe(false);
    expect(r.ctx.of('access.decision').at(-1)).toMatchObject({ allow: false, reason: 'LOCKOUT_PENDING' });
    r.m.shutdown();
  });

  it("a suspension or a revoked certification arriving by sync ends the member's session; an unchanged rule does not", () => {
    const r = rig();
    r.m.start();
    r.m.tap(ALICE);
    r.m.recheck();
    expect(r.relay.value).toBe(true);
    r.ctx.cards.set(ALICE, decision(false, 'MEMBER_SUSPENDED', 'alice'));
    r.m.recheck();
    expect(r.relay.value).toBe(false);
    expect(sessions(r.ctx).at(-1)).toMatchObject({ member: 'alice', event: 'end', endReason: 'admin' });
    expect(r.ctx.said.at(-1)).toEqual({ message: expect.stringContaining('suspended'), tone: 'alarm' });
    r.m.tap(CAROL);
    r.ctx.cards.set(CAROL, decision(false, 'NOT_CERTIFIED', 'carol'));
    r.m.recheck();
    expect(sessions(r.ctx).at(-1)).toMatchObject({ member: 'carol', endReason: 'admin' });
    r.m.shutdown();
  });

  it('e-stop mid-session: power off at once, the session ends, a lockout now naming the member is recorded', () => {
    const r = rig();
    r.m.start();
    r.m.tap(ALICE);
    const relayAtRecord: boolean[] = [];
    r.ctx.onRecord = () => relayAtRecord.push(r.relay.value);
    r.estop.set(true);
    expect(r.relay.value).toBe(false);
    expect(relayAtRecord).toEqual([false, false]);
    expect(sessions(r.ctx).at(-1)).toMatchObject({ event: 'end', endReason: 'admin' });
    expect(ResourceLockout.parse(r.ctx.of('resource.lockout')[0])).toMatchObject({ resource: 'laser', state: 'now', by: 'alice' });
    expect(r.ctx.lastState).toBe('locked_out');
    expect(r.buzzer.beeps.at(-1)).toBe('alarm');
    // While pressed nothing starts, even before the lockout entry reaches decide().
    r.m.tap(CAROL);
    expect(r.relay.value).toBe(false);
    expect(r.ctx.of('access.decision').at(-1)).toMatchObject({ allow: false, reason: 'LOCKED_OUT', member: 'carol' });
    r.estop.set(false);
    expect(r.ctx.lastState).toBe('idle');
    r.m.shutdown();
  });

  it('e-stop with no session: power stays off while pressed, no lockout entry (the policy refuses by: null)', () => {
    const r = rig();
    r.m.start();
    r.estop.set(true);
    expect(r.ctx.of('resource.lockout')).toEqual([]);
    expect(r.ctx.lastState).toBe('locked_out');
    expect(r.ctx.said.at(-1)!.tone).toBe('alarm');
    r.m.tap(ALICE);
    expect(r.relay.value).toBe(false);
    r.estop.set(false);
    r.m.tap(ALICE);
    expect(r.relay.value).toBe(true);
    r.m.shutdown();
  });

  it('an e-stop pressed at start keeps the machine locked out', () => {
    const r = rig();
    r.estop.set(true, true);
    r.m.start();
    expect(r.ctx.lastState).toBe('locked_out');
    r.m.tap(ALICE);
    expect(r.relay.value).toBe(false);
    r.m.shutdown();
  });

  it('shutdown ends a running session with shutdown and leaves everything safe', () => {
    const r = rig({ idleTimeoutSeconds: () => 600 });
    r.m.start();
    r.m.tap(ALICE);
    jest.advanceTimersByTime(5_000);
    r.m.shutdown();
    expect(r.relay.value).toBe(false);
    expect(r.greenLed.value).toBe(false);
    expect(sessions(r.ctx).at(-1)).toMatchObject({ event: 'end', seconds: 5, endReason: 'shutdown' });
    expect(r.estop.watchers).toBe(0);
  });
});
