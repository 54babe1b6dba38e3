import { describe, expect, it, jest } from '@jest/globals';
import { DoorEvent, AccessDecision } from '@keymesh/protocol';
import { FakeBuzzer, FakeContext, FakeInput, FakeOutput, decision, fakeClockPerTest } from '@keymesh/testkit/controller-fakes';
import { DoorController, type DoorOptions } from './door.js';

const ALICE_CARD = 'a'.repeat(32);
const BOB_CARD = 'b'.repeat(32);
const CMD = 'c'.repeat(32);
const ISSUER = 'd'.repeat(64);

function rig(over: Partial<DoorOptions> = {}) {
  const ctx = new FakeContext();
  ctx.cards.set(ALICE_CARD, decision(true, 'ALLOWED', 'alice'));
  ctx.cards.set(BOB_CARD, decision(false, 'MEMBER_SUSPENDED', 'bob'));
  const d = {
    relay: new FakeOutput('relay'), doorSensor: new FakeInput('doorSensor'), exitButton: new FakeInput('exitButton'),
    greenLed: new FakeOutput('greenLed'), redLed: new FakeOutput('redLed'), buzzer: new FakeBuzzer(),
  };
  const door = new DoorController({ resource: 'front-door', ctx, ...d, unlockSeconds: () => 5, ...over });
  return { ctx, ...d, door };
}
const events = (ctx: FakeContext) => ctx.of('door.event').map((b) => b.event);

fakeClockPerTest();

describe('DoorController', () => {
  it('start drives every output safe before anything else, and publishes the state', () => {
    const r = rig();
    r.relay.write(true);
    r.greenLed.write(true);
    r.door.start();
    expect(r.relay.value).toBe(false);
    expect(r.greenLed.value).toBe(false);
    expect(r.buzzer.offs).toBe(1);
    expect(r.ctx.states).toEqual([{ state: 'locked', member: null }]);
    expect(r.ctx.records).toEqual([]);
    r.door.stop();
    expect(r.doorSensor.watchers + r.exitButton.watchers).toBe(0);
  });

  it('an allowed tap: relay first, then the decision, then the unlock event; locks again after unlockSeconds', () => {
    const r = rig();
    r.door.start();
    const relayAtRecord: boolean[] = [];
    r.ctx.onRecord = () => relayAtRecord.push(r.relay.value);
    r.door.tap(ALICE_CARD);
    expect(r.relay.value).toBe(true);
    expect(r.greenLed.value).toBe(true);
    expect(r.buzzer.beeps).toEqual(['allow']);
    expect(r.ctx.records.map((x) => x.type)).toEqual(['access.decision', 'door.event']);
    expect(relayAtRecord).toEqual([true, true]);
    const dec = AccessDecision.parse(r.ctx.of('access.decision')[0]);
    expect(dec).toMatchObject({ allow: true, reason: 'ALLOWED', member: 'alice', credential: { kind: 'card', card: ALICE_CARD } });
    expect(DoorEvent.parse(r.ctx.of('door.event')[0])).toMatchObject({ event: 'unlocked', cause: { kind: 'tap', member: 'alice', card: ALICE_CARD } });
    expect(r.ctx.lastState).toBe('unlocked');
    expect(r.ctx.states.at(-1)!.member).toBe('alice');
    jest.advanceTimersByTime(4999);
    expect(r.relay.value).toBe(true);
    jest.advanceTimersByTime(1);
    expect(r.relay.value).toBe(false);
    expect(r.greenLed.value).toBe(false);
    expect(events(r.ctx)).toEqual(['unlocked', 'locked']);
    expect(r.ctx.lastState).toBe('locked');
    r.door.shutdown();
  });

  it('uses the fallback unlock time when the rules do not know the resource', () => {
    const r = rig({ unlockSeconds: () => undefined, settings: { unlockSecondsFallback: 2 } });
    r.door.start();
    r.door.tap(ALICE_CARD);
    jest.advanceTimersByTime(2000);
    expect(r.relay.value).toBe(false);
    r.door.shutdown();
  });

  it('a refused tap: relay untouched, red and the deny beep, the decision recorded with its reason', () => {
    const r = rig();
    r.door.start();
    r.door.tap(BOB_CARD);
    expect(r.relay.writes).toEqual([false]);
    expect(r.redLed.value).toBe(true);
    expect(r.buzzer.beeps).toEqual(['deny']);
    expect(r.ctx.of('access.decision')).toEqual([expect.objectContaining({ allow: false, reason: 'MEMBER_SUSPENDED', member: 'bob' })]);
    expect(r.ctx.said.at(-1)).toEqual({ message: expect.stringContaining('suspended'), tone: 'deny' });
    jest.advanceTimersByTime(1000);
    expect(r.redLed.value).toBe(false);
    r.door.tap('e'.repeat(32));
    expect(r.ctx.of('access.decision').at(-1)).toMatchObject({ reason: 'UNKNOWN_CARD', member: null });
    r.door.shutdown();
  });

  it('fail_safe (maglock): the relay is energised to lock, released to unlock', () => {
    const r = rig({ settings: { lock: 'fail_safe' } });
    r.door.start();
    expect(r.relay.value).toBe(true);
    r.door.tap(ALICE_CARD);
    expect(r.relay.value).toBe(false);
    jest.advanceTimersByTime(5000);
    expect(r.relay.value).toBe(true);
    r.door.tap(ALICE_CARD);
    r.door.safe();
    expect(r.relay.value).toBe(true);
    r.door.shutdown();
  });

  it('opened and closed after a tap; relocks as soon as it closes', () => {
    const r = rig();
    r.door.start();
    r.door.tap(ALICE_CARD);
    r.doorSensor.set(true);
    expect(r.ctx.lastState).toBe('open');
    r.doorSensor.set(false);
    expect(r.relay.value).toBe(false);
    expect(events(r.ctx)).toEqual(['unlocked', 'opened', 'closed', 'locked']);
    expect(r.ctx.lastState).toBe('locked');
    r.door.shutdown();
  });

  it('forced open: opened while locked raises the alarm until it closes', () => {
    const r = rig();
    r.door.start();
    r.doorSensor.set(true);
    expect(events(r.ctx)).toEqual(['forced']);
    expect(DoorEvent.parse(r.ctx.of('door.event')[0]).cause).toBeNull();
    expect(r.ctx.lastState).toBe('forced');
    expect(r.buzzer.beeps).toEqual(['alarm']);
    expect(r.redLed.value).toBe(true);
    expect(r.ctx.said.at(-1)!.tone).toBe('alarm');
    r.doorSensor.set(false);
    expect(events(r.ctx)).toEqual(['forced', 'closed']);
    expect(r.redLed.value).toBe(false);
    expect(r.ctx.lastState).toBe('locked');
    r.door.shutdown();
  });

  it('held open: the alarm after heldOpenSeconds, cleared when it closes', () => {
    const r = rig({ settings: { heldOpenSeconds: 30, relockOnClose: false } });
    r.door.start();
    r.door.tap(ALICE_CARD);
    r.doorSensor.set(true);
    jest.advanceTimersByTime(29_999);
    expect(events(r.ctx)).toEqual(['unlocked', 'opened', 'locked']);
    jest.advanceTimersByTime(1);
    expect(events(r.ctx).at(-1)).toBe('held_open');
    expect(r.ctx.lastState).toBe('held_open');
    expect(r.buzzer.beeps.at(-1)).toBe('alarm');
    r.doorSensor.set(false);
    expect(events(r.ctx).slice(-1)).toEqual(['closed']);
    expect(r.buzzer.offs).toBeGreaterThan(1);
    expect(r.ctx.lastState).toBe('locked');
    r.door.shutdown();
  });

  it('the exit button unlocks with cause exit_button, and opening then is not forced', () => {
    const r = rig();
    r.door.start();
    r.exitButton.set(true);
    r.exitButton.set(false);
    expect(r.relay.value).toBe(true);
    expect(r.ctx.of('door.event')[0]).toMatchObject({ event: 'unlocked', cause: { kind: 'exit_button' } });
    r.doorSensor.set(true);
    expect(events(r.ctx)).toEqual(['unlocked', 'opened']);
    r.doorSensor.set(false);
    expect(r.ctx.records.filter((x) => x.type === 'access.decision')).toEqual([]);
    r.door.shutdown();
  });

  it('an exit button that does not unlock marks the next opening as an exit for unlockSeconds', () => {
    const r = rig({ settings: { exitButtonUnlocks: false } });
    r.door.start();
    r.exitButton.set(true);
    expect(r.relay.value).toBe(false);
    r.doorSensor.set(true);
    r.doorSensor.set(false);
    expect(events(r.ctx)).toEqual(['exit_request', 'opened', 'closed']);
    jest.advanceTimersByTime(5000);
    r.doorSensor.set(true);
    expect(events(r.ctx).at(-1)).toBe('forced');
    r.doorSensor.set(false);
    r.door.shutdown();
  });

  it('a remote unlock acts once per command id and names the command and its issuer', () => {
    const r = rig();
    r.door.start();
    expect(r.door.remoteUnlock({ command: CMD, issuer: ISSUER })).toBe(true);
    expect(r.relay.value).toBe(true);
    expect(DoorEvent.parse(r.ctx.of('door.event')[0]).cause).toEqual({ kind: 'command', command: CMD, issuer: ISSUER });
    jest.advanceTimersByTime(5000);
    expect(r.relay.value).toBe(false);
    expect(r.door.remoteUnlock({ command: CMD, issuer: ISSUER })).toBe(false);
    expect(r.relay.value).toBe(false);
    expect(events(r.ctx)).toEqual(['unlocked', 'locked']);
    r.door.shutdown();
  });

  it('a tap during the unlock window extends it', () => {
    const r = rig();
    r.door.start();
    r.door.tap(ALICE_CARD);
    jest.advanceTimersByTime(4000);
    r.door.tap(ALICE_CARD);
    jest.advanceTimersByTime(4000);
    expect(r.relay.value).toBe(true);
    jest.advanceTimersByTime(1000);
    expect(r.relay.value).toBe(false);
    r.door.shutdown();
  });

  it('safe() mid-unlock locks at once and leaves no timer; a door found open at start is open, not forced', () => {
    const r = rig();
    r.doorSensor.set(true, true);
    r.door.start();
    expect(r.ctx.lastState).toBe('open');
    expect(events(r.ctx)).toEqual([]);
    r.door.tap(ALICE_CARD);
    r.door.safe();
    expect(r.relay.value).toBe(false);
    expect(r.greenLed.value).toBe(false);
    r.door.shutdown();
  });

  it('refuses settings out of range', () => {
    expect(() => rig({ settings: { heldOpenSeconds: 0 } })).toThrow();
    expect(() => rig({ settings: { lock: 'magic' as 'fail_safe' } })).toThrow();
  });
});
