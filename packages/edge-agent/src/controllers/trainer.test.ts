import { describe, expect, it, jest } from '@jest/globals';
import { CERTIFY_REFUSALS, CertGrant } from '@keymesh/protocol';
import { FakeBuzzer, FakeContext, FakeInput, FakeOutput, decision, fakeClockPerTest } from '@keymesh/testkit/controller-fakes';
import { MachineController } from './machine.js';

const TRAINER = '1'.repeat(32);
const TRAINEE = '2'.repeat(32);
const MEMBER = '3'.repeat(32);
const SUSPENDED = '4'.repeat(32);
const DEP = 'e'.repeat(64);

function rig() {
  const ctx = new FakeContext();
  ctx.cards.set(TRAINER, decision(true, 'ALLOWED', 'tara'));
  ctx.cards.set(TRAINEE, decision(false, 'NOT_CERTIFIED', 'tom'));
  ctx.cards.set(MEMBER, decision(true, 'ALLOWED', 'mia'));
  ctx.cards.set(SUSPENDED, decision(false, 'MEMBER_SUSPENDED', 'sam'));
  const asked: Array<[string, string]> = [];
  ctx.certify = (trainer, trainee) => {
    asked.push([trainer, trainee]);
    return trainer === 'tara' ? { ok: true, certs: ['laser-basic', 'laser-fume'], deps: [DEP] } : { ok: false, reason: 'NOT_A_TRAINER', message: CERTIFY_REFUSALS.NOT_A_TRAINER };
  };
  const buzzer = new FakeBuzzer();
  const m = new MachineController({
    resource: 'laser', ctx, relay: new FakeOutput('relay'), estop: new FakeInput('estop'), buzzer, idleTimeoutSeconds: () => null,
  });
  m.start();
  return { ctx, m, asked, buzzer };
}

fakeClockPerTest();

describe('trainer at the machine panel', () => {
  it('trainer taps, trainee taps within 30 s: one cert.grant per missing cert, granted by the trainer, naming the trainer record in deps', () => {
    const r = rig();
    r.m.tap(TRAINER);
    jest.advanceTimersByTime(30_000);
    r.m.tap(TRAINEE);
    expect(r.asked).toEqual([['tara', 'tom']]);
    const grants = r.ctx.records.filter((x) => x.type === 'cert.grant');
    expect(grants.map((g) => CertGrant.parse(g.body))).toEqual([
      expect.objectContaining({ member: 'tom', cert: 'laser-basic', grantedBy: 'tara' }),
      expect.objectContaining({ member: 'tom', cert: 'laser-fume', grantedBy: 'tara' }),
    ]);
    expect(grants.every((g) => g.deps?.length === 1 && g.deps[0] === DEP)).toBe(true);
    expect(r.ctx.said.at(-1)).toEqual({ message: expect.stringMatching(/tom certified for laser-basic, laser-fume by tara/), tone: 'ok' });
    // The trainee's tap is still a recorded refusal, and the trainer's session runs on.
    expect(r.ctx.of('access.decision').at(-1)).toMatchObject({ allow: false, reason: 'NOT_CERTIFIED', member: 'tom' });
    expect(r.m.member).toBe('tara');
    expect(r.buzzer.beeps.at(-1)).toBe('allow');
    r.m.shutdown();
  });

  it('a trainee tapping 31 s later is an ordinary refusal', () => {
    const r = rig();
    r.m.tap(TRAINER);
    jest.advanceTimersByTime(31_000);
    r.m.tap(TRAINEE);
    expect(r.asked).toEqual([]);
    expect(r.ctx.of('cert.grant')).toEqual([]);
    expect(r.ctx.said.at(-1)).toEqual({ message: expect.stringContaining('not certified for this machine'), tone: 'deny' });
    r.m.shutdown();
  });

  it('a first badge that is not a trainer: nothing granted, the refusal said in words', () => {
    const r = rig();
    r.m.tap(MEMBER);
    r.m.tap(TRAINEE);
    expect(r.asked).toEqual([['mia', 'tom']]);
    expect(r.ctx.of('cert.grant')).toEqual([]);
    expect(r.ctx.said.at(-1)).toEqual({ message: `tom not certified: ${CERTIFY_REFUSALS.NOT_A_TRAINER}`, tone: 'deny' });
    expect(r.buzzer.beeps.at(-1)).toBe('deny');
    r.m.shutdown();
  });

  it("a certified member's tap inside the window is a normal handover; a refusal for another reason is only that refusal", () => {
    const r = rig();
    r.m.tap(TRAINER);
    r.m.tap(SUSPENDED);
    expect(r.asked).toEqual([]);
    expect(r.m.member).toBe('tara');
    r.m.tap(MEMBER);
    expect(r.asked).toEqual([]);
    expect(r.m.member).toBe('mia');
    r.m.shutdown();
  });

  it("the trainer's tap-out opens the window too", () => {
    const r = rig();
    r.m.tap(TRAINER);
    jest.advanceTimersByTime(60_000);
    r.m.tap(TRAINER);
    expect(r.m.member).toBeNull();
    r.m.tap(TRAINEE);
    expect(r.ctx.of('cert.grant')).toHaveLength(2);
    r.m.shutdown();
  });
});
