/**
 * Received entries wait here and are stored in slices (DESIGN §7: an edge keeps deciding taps
 * while it catches up). A 128 KiB batch stored in one go held an edge's event loop for
 * 35-120 ms here; in chunks of a few dozen entries, each turn stays within its slice.
 * Bounded: past INTAKE_MAX_LINES waiting, or a sender's share, what arrives is dropped (asked again).
 */
import { performance } from 'node:perf_hooks';

export const INTAKE_MAX_LINES = 20_000;
/** What one sender may have waiting: a peer sending junk cannot crowd out the others' answers. */
export const INTAKE_SHARE = INTAKE_MAX_LINES / 4;
const CHUNK = 32;

export class Intake {
  private queue: Array<{ lines: string[]; from: string }> = [];
  private waiting = 0;
  private readonly bySender = new Map<string, number>();
  private scheduled = false;

  constructor(
    private readonly store: (lines: string[], from: string) => void,
    private readonly drained: () => void,
    private readonly sliceMs: number,
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
      this.queue.push({ lines: kept, from });
      this.waiting += kept.length;
      this.bySender.set(from, mine + kept.length);
      if (!this.scheduled) (this.scheduled = true, setImmediate(() => this.drain()));
    }
    return lines.length - kept.length;
  }

  private drain(): void {
    this.scheduled = false;
    const started = performance.now();
    let chunks = 0;
    // At least one chunk a turn (a slice of 0 ms still makes progress), then while time is left.
    while (this.queue.length && (chunks++ === 0 || performance.now() - started < this.sliceMs)) {
      const head = this.queue[0]!;
      const lines = head.lines.splice(0, CHUNK);
      this.waiting -= lines.length;
      const left = (this.bySender.get(head.from) ?? 0) - lines.length;
      if (left > 0) this.bySender.set(head.from, left);
      else this.bySender.delete(head.from);
      if (head.lines.length === 0) this.queue.shift();
      this.store(lines, head.from);
    }
    if (this.queue.length) (this.scheduled = true, setImmediate(() => this.drain()));
    else this.drained();
  }
}
