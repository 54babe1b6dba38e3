// Red team: the machine under pressure. An emergency stop during a training window is not a
// sign-off; a tap while the e-stop is held never powers the machine, whoever taps; a lockout
// `now` arriving mid-session ends it even during a trainer's window.
import { describe, expect, it, jest } from '@jest/globals';
import { FakeBuzzer, FakeContext, FakeInput, FakeOutput, decision, fakeClockPerTest } from '@keymesh/testkit/controller-fakes';
import { MachineController } from './machine.js';

const TRAINER = '1'.repeat(32);
const TRAINEE = '2'.repeat(32);
const MEMBER = '3'.repeat(32);

function rig() {
  const ctx = new FakeContext();
  ctx.cards.set(TRAINER, decision(true, 'ALLOWED', 'tara'));
  ctx.cards.set(TRAINEE, decision(false, 'NOT_CERTIFIED', 'tom'));
  ctx.cards.set(MEMBER, decision(true, 'ALLOWED', 'mia'));
  ctx.certify = () => ({ ok: true, certs: ['laser'], deps: ['e'.repeat(64)] });
  const relay = new FakeOutput('relay');
  const estop = new FakeInput('estop');
  const m = new MachineController({ resource: 'laser', ctx, relay, estop, buzzer: new FakeBuzzer(), idleTimeoutSeconds: () => null });
  m.start();
  return { ctx, m, relay, estop };
}

fakeClockPerTest();

describe('machine attacks', () => {
  it('an e-stop pressed during the trainer window closes it: the trainee tapping next is not certified, even after the release', () => {
    const r = rig();
    r.m.tap(TRAINER); // session starts, window opens
    jest.advanceTimersByTime(5_000);
    r.estop.set(true); // the session ends, lockout recorded
    r.m.tap(TRAINEE);
    expect(r.ctx.of('cert.grant')).toEqual([]);
    r.estop.set(false);
    jest.advanceTimersByTime(5_000);
    r.m.tap(TRAINEE);
    expect(r.ctx.of('cert.grant')).toEqual([]);
    expect(r.relay.value).toBe(false);
    r.m.shutdown();
  });

  it('an e-stop pressed after the trainer tapped out (no session, no lockout entry): the trainee is still not certified while it is held', () => {
    const r = rig();
    r.m.tap(TRAINER);
    jest.advanceTimersByTime(2_000);
    r.m.tap(TRAINER); // tap out: the window opens again
    r.estop.set(true);
    r.m.tap(TRAINEE);
    expect(r.ctx.of('cert.grant')).toEqual([]);
    expect(r.relay.value).toBe(false);
    r.m.shutdown();
  });

  it('while the e-stop is held no tap powers the machine, however many and whoever taps', () => {
    const r = rig();
    r.estop.set(true);
    for (let i = 0; i < 20; i++) {
      r.m.tap(i % 2 ? MEMBER : TRAINER);
      jest.advanceTimersByTime(2_000);
    }
    expect(r.relay.writes.every((w) => w === false)).toBe(true);
    expect(r.m.state).toBe('locked_out');
    expect(r.ctx.of('access.decision').every((d) => d.allow === false)).toBe(true);
    r.m.shutdown();
  });

  it('a lockout now arriving during a training session ends it at once and the window grants nothing after', () => {
    const r = rig();
    r.m.tap(TRAINER);
    r.ctx.lockoutState = 'now';
    r.ctx.cards.set(TRAINER, decision(false, 'LOCKED_OUT', 'tara'));
    r.ctx.cards.set(TRAINEE, decision(false, 'LOCKED_OUT', 'tom'));
    r.m.recheck();
    expect(r.relay.value).toBe(false);
    expect(r.m.member).toBeNull();
    r.m.tap(TRAINEE);
    expect(r.ctx.of('cert.grant')).toEqual([]);
    r.m.shutdown();
  });
});
