/**
 * Fake devices and a fake controller context for the edge agent's controller tests (door,
 * machine, trainer). They match edge-agent's device interfaces and `ControllerContext` by
 * shape (testkit never imports edge-agent). Time is `Date.now()`, so jest's fake timers move it.
 */
import { afterEach, beforeEach, expect, jest } from '@jest/globals';
import { DECISION_REASONS, type CanCertify, type Decision, type DecisionReason } from '@keymesh/protocol';

export class FakeOutput {
  value = false;
  readonly writes: boolean[] = [];
  constructor(readonly name: string) {}
  write(on: boolean): void {
    this.value = on;
    this.writes.push(on);
  }
  async close(): Promise<void> {}
}

export class FakeInput {
  private level = false;
  private readonly listeners = new Set<(active: boolean, atMs: number) => void>();
  constructor(readonly name: string) {}
  read(): boolean {
    return this.level;
  }
  watch(listener: (active: boolean, atMs: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  /** Changes the level and tells the watchers (a debounced edge); `quiet` only sets it (before start). */
  set(active: boolean, quiet = false): void {
    if (active === this.level) return;
    this.level = active;
    if (!quiet) for (const l of [...this.listeners]) l(active, Date.now());
  }
  get watchers(): number {
    return this.listeners.size;
  }
  async close(): Promise<void> {}
}

export class FakeBuzzer {
  readonly beeps: string[] = [];
  offs = 0;
  constructor(readonly name = 'buzzer') {}
  beep(pattern: 'allow' | 'deny' | 'warn' | 'alarm'): void {
    this.beeps.push(pattern);
  }
  off(): void {
    this.offs++;
  }
  async close(): Promise<void> {}
}

export interface Recorded {
  type: string;
  body: Record<string, unknown>;
  deps: readonly string[] | undefined;
}

/** A decision as decide() words it. */
export function decision(allow: boolean, reason: DecisionReason, member: string | null): Decision {
  return { allow, reason, message: DECISION_REASONS[reason], member };
}

/**
 * A ControllerContext: `cards` maps a card reference to its decision (unknown cards:
 * UNKNOWN_CARD); tests change it to play rule changes. Everything the controller did is kept
 * in order in `log` (records, state changes, sayings), with the relay's value at that moment.
 */
export class FakeContext {
  readonly cards = new Map<string, Decision>();
  readonly records: Recorded[] = [];
  readonly states: Array<{ state: string; member: string | null }> = [];
  readonly said: Array<{ message: string; tone: string }> = [];
  lockoutState: 'now' | 'when_idle' | 'lifted' | null = null;
  certify: (trainer: string, trainee: string) => CanCertify = () => ({ ok: false, reason: 'NOT_A_TRAINER', message: 'not a trainer' });
  /** Called on each record, e.g. to check the relay moved first. */
  onRecord: ((r: Recorded) => void) | null = null;

  now(): number {
    return Date.now();
  }
  decide(card: string): Decision {
    return this.cards.get(card) ?? decision(false, 'UNKNOWN_CARD', null);
  }
  record(type: string, body: object, deps?: readonly string[]): void {
    const r = { type, body: body as Record<string, unknown>, deps };
    this.records.push(r);
    this.onRecord?.(r);
  }
  canCertify(trainer: string, trainee: string): CanCertify {
    return this.certify(trainer, trainee);
  }
  lockout(): 'now' | 'when_idle' | 'lifted' | null {
    return this.lockoutState;
  }
  stateChanged(state: string, member: string | null): void {
    this.states.push({ state, member });
  }
  say(message: string, tone: string): void {
    this.said.push({ message, tone });
  }

  /** The bodies recorded of one type. */
  of(type: string): Array<Record<string, unknown>> {
    return this.records.filter((r) => r.type === type).map((r) => r.body);
  }
  get lastState(): string | undefined {
    return this.states.at(-1)?.state;
  }
}

/** Each test of the calling suite runs on jest's fake clock from `startMs`, and must end with no timer left (a controller that leaks one fails). */
export function fakeClockPerTest(startMs = 1_800_000_000_000): void {
  beforeEach(() => {
    jest.useFakeTimers({ now: startMs });
  });
  afterEach(() => {
    const left = jest.getTimerCount();
    jest.useRealTimers();
    expect(left).toBe(0);
  });
}
