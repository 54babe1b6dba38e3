/**
 * Received entries wait here and are stored in slices (DESIGN §7: an edge keeps deciding taps
 * while it catches up). A 128 KiB batch stored in one go held an edge's event loop for
 * 35-120 ms here; in chunks of a few dozen entries, each turn stays within its slice.
 * Bounded: past INTAKE_MAX_LINES waiting, or a sender's share, what arrives is dropped (asked again).
 *
 * With a `checker` (a coordinator: the store checks lines in a worker), each chunk is checked
 * off the event loop first (parse, schema, canonical bytes, hash), at most CHECKS_AHEAD
 * chunks ahead of storing, and stored with its checks in the order it was queued.
 */
import { performance } from 'node:perf_hooks';
import type { CheckedLine } from '../check-line.js';

export const INTAKE_MAX_LINES = 20_000;
/** What one sender may have waiting: a peer sending junk cannot crowd out the others' answers. */
export const INTAKE_SHARE = INTAKE_MAX_LINES / 4;
/** Entries stored per call by default: an edge's slices stay within a few ms. */
export const INTAKE_CHUNK = 32;
/** Chunks being checked at once: the worker checks the next ones while this thread stores one. */
const CHECKS_AHEAD = 3;

type Item = { lines: string[]; from: string };
type Chunk = { lines: string[]; from: string; checks?: ReadonlyArray<CheckedLine> | undefined; done: boolean };

export type IntakeStore = (lines: string[], from: string, checks?: ReadonlyArray<CheckedLine>) => void;
export type IntakeChecker = (lines: string[]) => Promise<ReadonlyArray<CheckedLine>>;

export class Intake {
  private queue: Item[] = [];
  /**
   * The queued item of each sender, which its next lines join: live entries arrive one per
   * message, and stored one by one each would cost a transaction and a signature check of its
   * own; joined, a feed's run is stored in chunks whose newest signature covers the rest.
   */
  private readonly open = new Map<string, Item>();
  /** Chunks taken from the queue for checking, in queue order; stored once checked. */
  private readonly checking: Chunk[] = [];
  private waiting = 0;
  private readonly bySender = new Map<string, number>();
  private scheduled = false;

  constructor(
    private readonly store: IntakeStore,
    private readonly drained: () => void,
    private readonly sliceMs: number,
    private readonly chunk = INTAKE_CHUNK,
    private readonly checker?: IntakeChecker,
  ) {}

  get size(): number {
    return this.waiting;
  }

  /** Queues lines from `from`; returns how many were dropped for the bound. */
  push(lines: readonly string[], from: string): number {
    const mine = this.bySender.get(from) ?? 0;
    const room = Math.max(0, Math.min(INTAKE_MAX_LINES - this.waiting, INTAKE_SHARE - mine));
    const kept = lines.length > room ? lines.slice(0, room) : [...lines];
    if (kept.length) {
      const item = this.open.get(from);
      if (item) item.lines.push(...kept);
      else {
        const added = { lines: kept, from };
        this.queue.push(added);
        this.open.set(from, added);
      }
      this.waiting += kept.length;
      this.bySender.set(from, mine + kept.length);
      this.schedule();
    }
    return lines.length - kept.length;
  }

  private schedule(): void {
    if (!this.scheduled) (this.scheduled = true, setImmediate(() => this.drain()));
  }

  /** The next chunk of the queue (from its first item). */
  private take(): Item {
    const head = this.queue[0]!;
    const lines = head.lines.splice(0, this.chunk);
    if (head.lines.length === 0) (this.queue.shift(), this.open.get(head.from) === head && this.open.delete(head.from));
    return { lines, from: head.from };
  }

  private stored(c: Item): void {
    this.waiting -= c.lines.length;
    const left = (this.bySender.get(c.from) ?? 0) - c.lines.length;
    if (left > 0) this.bySender.set(c.from, left);
    else this.bySender.delete(c.from);
    this.store(c.lines, c.from, (c as Chunk).checks);
  }

  private sendChecks(): void {
    while (this.checker && this.queue.length && this.checking.length < CHECKS_AHEAD) {
      const c: Chunk = { ...this.take(), done: false };
      this.checking.push(c);
      this.checker(c.lines).then(
        (checks) => (c.checks = checks),
        () => (c.checks = undefined), // the worker failed: the store checks these itself
      ).finally(() => ((c.done = true), this.schedule()));
    }
  }

  private drain(): void {
    this.scheduled = false;
    const started = performance.now();
    let chunks = 0;
    this.sendChecks();
    // At least one chunk a turn (a slice of 0 ms still makes progress), then while time is left.
    const more = () => chunks++ === 0 || performance.now() - started < this.sliceMs;
    if (this.checker) {
      while (this.checking[0]?.done && more()) (this.stored(this.checking.shift()!), this.sendChecks());
    } else {
      while (this.queue.length && more()) this.stored(this.take());
    }
    if (this.queue.length && !this.checker) this.schedule();
    else if (this.checker && this.checking[0]?.done) this.schedule();
    else if (!this.queue.length && !this.checking.length) this.drained();
  }
}
