/**
 * Anti-entropy between replicas, independent of the transport (DESIGN §7). Feeds are
 * contiguous, so a replica's whole knowledge is its heads `{author: seq}`:
 *   have  → the receiver notes the sender's heads, sends what the sender lacks (push) and asks
 *           for what it lacks itself (want);
 *   want  → the receiver sends the ranges asked for;
 *   batch → the receiver ingests the entries (canonical bytes, verified).
 * A `have` also names the feeds the sender knows to be forked; the receiver sends the proofs of
 * the forks the sender lacks (every entry at the fork), so replicas converge on forks too.
 * Every message is idempotent, so a channel that drops, duplicates, delays or reorders only
 * slows convergence: the next `have` round repairs whatever was lost. Batches never exceed
 * `maxMessageBytes` once encoded.
 */
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import {
  SyncMessage, describeZodError, MAX_HAVE_FORKS, MIN_SYNC_MESSAGE_BYTES,
  type BatchMessage, type ForkClaim, type HaveMessage, type SeqRange, type WantMessage,
} from '@keymesh/protocol';
import { addIngestResult, emptyIngestResult, type IngestResult, type VerifyMode } from '../types.js';
import { addRanges, rangesAhead, withoutSent, MAX_OUTBOX_RANGES, type Outbox } from './ranges.js';
import type { CheckedLine } from '../check-line.js';
import type { SyncStore } from './store.js';

export interface SyncOptions {
  /**
   * Upper bound of one encoded message (UTF-8; a batch as codec.ts writes it: a header line and
   * one line per entry). At least MIN_SYNC_MESSAGE_BYTES, so every valid entry fits.
   */
  maxMessageBytes?: number;
  /** Entries read from the store per query while filling batches. */
  readChunk?: number;
  verify?: VerifyMode;
  /** Called for messages that fail validation (logged by the caller, never thrown). */
  onInvalid?: (reason: string, raw: unknown) => void;
  onIngest?: (result: IngestResult, from: string) => void;
  /**
   * Batches sent to one peer within one call; the rest of a catch-up follows in later turns of
   * the event loop (DESIGN §7: an edge keeps deciding taps while it serves a catch-up).
   */
  batchesPerTurn?: number;
  /** Longest a turn of sending may run, in ms, before it yields to the event loop (taps are decided in between). */
  sliceMs?: number;
  /**
   * Whether a want is answered within the call that receives it (point to point, default) or
   * from the next turn on, with the other peers' answers in one shared slice (a bus).
   */
  sendAtOnce?: boolean;
  /** Whether the caller calls newRound(): ranges sent within a round are then not sent again. */
  rounds?: boolean;
  /** Whether the transport to `to` is backed up: sending pauses until `resume(to)`. */
  congested?: (to: string) => boolean;
  /**
   * Whether a `have` makes this replica send what the sender lacks. Point to point it does; on a
   * bus a have is broadcast, and every replica pushing would flood it, so there each replica
   * pulls what it lacks with addressed wants instead.
   */
  pushOnHave?: boolean;
}

export type Send = (to: string, msg: SyncMessage) => void;

export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024;
export const DEFAULT_BATCHES_PER_TURN = 4;
export const DEFAULT_SLICE_MS = 8;
/** Forks whose proofs one want may ask for (the rest in later rounds). */
export const FORK_PROOFS_A_WANT = 8;
/** Most ranges one `have` makes a replica ask for (a WantMessage's limit); the next round asks for more. */
export const MAX_WANTED_PER_HAVE = 10_000;

export class SyncEngine {
  readonly maxMessageBytes: number;
  private readonly readChunk: number;
  private readonly verify: VerifyMode;
  private readonly batchesPerTurn: number;
  private readonly sliceMs: number;
  /** Peer → what is still to be sent to it (paced: see batchesPerTurn). */
  private readonly outboxes = new Map<string, Outbox>();
  /** Peers with something to send, served in this order in the next turn. */
  private readonly ready = new Set<string>();
  private turnScheduled = false;
  /** Per peer, the ranges sent since newRound() (only when rounds are used: PubSubSync). */
  private readonly sentThisRound = new Map<string, Outbox>();
  /** The peer a turn of sending runs for, and what it asked meanwhile. */
  private pumping: string | undefined;
  private readonly incoming: SeqRange[] = [];

  constructor(readonly store: SyncStore, readonly node: string, private readonly send: Send, private readonly opts: SyncOptions = {}) {
    this.maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!(this.maxMessageBytes >= MIN_SYNC_MESSAGE_BYTES)) throw new RangeError(`maxMessageBytes ${this.maxMessageBytes} is too small; use at least MIN_SYNC_MESSAGE_BYTES (${MIN_SYNC_MESSAGE_BYTES}: the largest valid entry and its envelope)`);
    this.readChunk = opts.readChunk ?? 500;
    this.verify = opts.verify ?? 'batch';
    this.batchesPerTurn = Math.max(1, opts.batchesPerTurn ?? DEFAULT_BATCHES_PER_TURN);
    this.sliceMs = opts.sliceMs ?? DEFAULT_SLICE_MS;
  }

  /** Whether anything is still queued to be sent. */
  get sending(): boolean {
    return this.outboxes.size > 0;
  }

  /** Continues sending to `to` after the transport drained (see `congested`). */
  resume(to: string): void {
    if (this.outboxes.has(to)) this.schedule(to);
  }

  /** A new round: what was sent may be asked for and sent again. */
  newRound(): void {
    this.sentThisRound.clear();
  }

  /** Drops everything queued to be sent (the node stops). */
  clear(): void {
    this.sentThisRound.clear();
    this.outboxes.clear();
    this.ready.clear();
    this.incoming.length = 0;
  }

  /**
   * One turn of the event loop serves every peer with something to send, round robin, within
   * one slice in all: a node serving twelve peers still yields after sliceMs, not twelve times it.
   */
  private noteSent(to: string, author: string, from: number, upTo: number): void {
    const sent = this.sentThisRound.get(to) ?? new Map();
    addRanges(sent, [{ author, from, to: upTo }]);
    this.sentThisRound.set(to, sent);
  }

  private schedule(to: string): void {
    this.ready.add(to);
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => {
      this.turnScheduled = false;
      const end = performance.now() + this.sliceMs;
      const peers = [...this.ready];
      this.ready.clear();
      let served = 0;
      for (const peer of peers) {
        // The first peer is always served (a slice of 0 ms still sends); the rest while time is left.
        if (served++ > 0 && performance.now() >= end) this.schedule(peer); // first in the next turn
        else this.pump(peer, end);
      }
    });
  }

  have(): HaveMessage {
    const forks = this.store.forkClaims(MAX_HAVE_FORKS);
    return { kind: 'have', node: this.node, heads: this.store.heads(), ...(Object.keys(forks).length ? { forks } : {}) };
  }

  /** Sends this replica's heads to a peer. */
  announce(to: string): void {
    this.send(to, this.have());
  }

  /** Handles one message from `from`. Invalid input is reported and dropped. */
  receive(from: string, raw: unknown): void {
    const parsed = SyncMessage.safeParse(raw);
    if (!parsed.success) {
      this.opts.onInvalid?.(describeZodError(parsed.error), raw);
      return;
    }
    const msg = parsed.data;
    // Peer input never throws out of here (DESIGN §7: bad payloads are reported and dropped):
    // what goes wrong is reported through onInvalid, with the message.
    try {
      switch (msg.kind) {
        case 'have':
          return this.onHave(from, msg);
        case 'want':
          this.sendRanges(from, msg.ranges);
          // Proofs are sent at once, unpaced: a few forks a want keeps that short.
          if (msg.forks?.length) this.sendForkProofs(from, {}, msg.forks.slice(0, FORK_PROOFS_A_WANT));
          return;
        case 'batch':
          return this.onBatch(from, msg);
      }
    } catch (err) {
      this.opts.onInvalid?.(`${msg.kind} from ${from} could not be handled: ${(err as Error).message}`, raw);
    }
  }

  private onHave(from: string, msg: HaveMessage): void {
    // Under the peer it came from: a message naming another node must not overwrite that node's claim.
    this.store.noteRemoteHeads(from, msg.heads);
    if (this.opts.pushOnHave ?? true) {
      this.sendRanges(from, rangesAhead(this.store.heads(), msg.heads));
      this.sendForkProofs(from, msg.forks ?? {});
    }
    this.sendWants(from, rangesAhead(msg.heads, this.store.heads()));
  }

  /**
   * Asks a peer for what it has ahead, in wants it accepts (each under maxMessageBytes and the
   * schema's 10,000 ranges). Feeds this replica already holds first; at most MAX_WANTED_PER_HAVE
   * ranges per have (a have may name 100,000 invented feeds), the rest in later rounds.
   */
  sendWants(to: string, wanted: SeqRange[], forks: Array<{ author: string; seq: number }> = []): void {
    if (wanted.length === 0 && forks.length === 0) return;
    const held = this.store.heads();
    wanted.sort((a, b) => Number(!(b.author in held)) - Number(!(a.author in held)));
    if (wanted.length > MAX_WANTED_PER_HAVE) wanted.length = MAX_WANTED_PER_HAVE;
    const askForks = forks.slice(0, MAX_HAVE_FORKS);
    const head = (rs: SeqRange[], first: boolean): WantMessage => ({ kind: 'want', node: this.node, to, ranges: rs, ...(first && askForks.length ? { forks: askForks } : {}) });
    const base = Buffer.byteLength(JSON.stringify(head([], true)));
    let ranges: SeqRange[] = [];
    let size = base;
    let first = true;
    for (const r of wanted) {
      const cost = Buffer.byteLength(JSON.stringify(r)) + 1;
      if (ranges.length && size + cost > this.maxMessageBytes) {
        this.send(to, head(ranges, first));
        first = false;
        ranges = [];
        size = base;
      }
      ranges.push(r);
      size += cost;
    }
    this.send(to, head(ranges, first));
  }

  /**
   * Sends the proofs of the forks a peer does not know of (`theirs`: what its `have` claims):
   * the feed's entry at the fork and every other signed entry found there. A
   * feed's entries alone do not show a fork, so without these two replicas with equal heads
   * would trust different entries (issue 10, finding 6). After the ranges, so a peer that was
   * behind links the proof to the entries before it in the same round.
   */
  private sendForkProofs(to: string, theirs: Record<string, ForkClaim>, asked?: ReadonlyArray<{ author: string }>): void {
    const out = this.batcher(to);
    const wanted = asked && new Set(asked.map((a) => a.author));
    let sent = 0;
    for (const f of this.store.forks()) {
      if (wanted && !wanted.has(f.author)) continue;
      const known = theirs[f.author];
      if (known && (known.seq < f.seq || (known.seq === f.seq && known.entries >= f.hashes.length))) continue;
      if (++sent > MAX_HAVE_FORKS) break; // bounded per round; the next `have` asks again
      for (const line of this.store.forkProofs(f.author, f.seq)) out.push(line, () => `fork proof ${f.author.slice(0, 12)}…/${f.seq}`);
    }
    out.flush();
  }

  private onBatch(from: string, msg: BatchMessage): void {
    this.ingestLines(from, msg.entries);
  }

  /** Stores received entry lines; one bad entry never loses the others (reported through onIngest). */
  ingestLines(from: string, lines: readonly string[], checks?: ReadonlyArray<CheckedLine>): void {
    const msg = { entries: lines };
    let result: IngestResult;
    try {
      result = checks && this.store.ingestChecked
        ? this.store.ingestChecked(msg.entries, checks, { verify: this.verify })
        : this.store.ingest(msg.entries, { verify: this.verify });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'LEDGER_CLOSED' || code === 'LEDGER_READONLY') throw err; // not the batch's fault
      // Ingest reports every per-entry problem as a rejection; should it still throw, the
      // genuine entries of the batch are not lost with the rest: they are ingested one by one.
      this.opts.onInvalid?.(`batch from ${from} failed as a whole (${(err as Error).message}); ingesting its entries one by one`, null);
      result = emptyIngestResult();
      for (const line of msg.entries) {
        try {
          addIngestResult(result, this.store.ingest([line], { verify: 'each' }));
        } catch (one) {
          this.opts.onInvalid?.(`entry from ${from} could not be ingested: ${(one as Error).message}`, line);
        }
      }
    }
    this.opts.onIngest?.(result, from);
  }

  /**
   * Sends the entries of `ranges` in batches that each fit in maxMessageBytes: up to
   * batchesPerTurn batches now, the rest in later turns of the event loop. Ranges are merged
   * with each other and with what is still queued for that peer, so a want naming one feed
   * 2,000 times sends it once.
   */
  sendRanges(to: string, ranges: readonly SeqRange[]): void {
    if (this.pumping === to) {
      // Asked within a turn of sending to the same peer (a synchronous transport): merged at its end.
      this.incoming.push(...ranges);
      return;
    }
    const box: Outbox = this.outboxes.get(to) ?? new Map();
    // What went to this peer this round is not sent again (a want repeated as each answer ends
    // would make one small message a large send, again and again); a loss is asked next round.
    const sent = this.sentThisRound.get(to);
    const dropped = addRanges(box, sent ? withoutSent(ranges, sent) : ranges);
    if (dropped) this.opts.onInvalid?.(`${dropped} ranges asked by ${to.slice(0, 12)}… are over the ${MAX_OUTBOX_RANGES} a peer may have queued; it asks again later`, null);
    if (box.size === 0) return;
    const running = this.outboxes.has(to);
    this.outboxes.set(to, box);
    if (running) return;
    if (this.opts.sendAtOnce ?? true) this.pump(to);
    else this.schedule(to);
  }

  /** One turn of sending to `to`, until `end` at the latest; schedules the next while anything is left. */
  private pump(to: string, end = performance.now() + this.sliceMs): void {
    const box = this.outboxes.get(to);
    if (!box) return;
    if (this.opts.congested?.(to)) return; // resume(to) continues when the transport drains
    const out = this.batcher(to);
    // Yield when a turn has sent its share, run its time, or the transport is backed up.
    const turnOver = () => out.sent >= this.batchesPerTurn - 1 || performance.now() >= end || (this.opts.congested?.(to) ?? false);
    let reads = 0;
    this.pumping = to;
    try {
      sending: for (const [author, list] of box) {
        while (list.length) {
          const r = list[list.length - 1]!;
          if (reads++ > 0 && turnOver()) break sending; // reads count too: empty ranges cost time
          const rows = this.store.readEncoded(author, r.from, Math.min(this.readChunk, r.to - r.from + 1));
          if (!rows.length) {
            list.pop();
            continue;
          }
          const first = r.from;
          for (const json of rows) {
            // Stop before this line would start one batch more than a turn may send.
            if (!out.fits(json) && turnOver()) break;
            const at = r.from++;
            out.push(json, () => `entry ${author.slice(0, 12)}…/${at}`);
          }
          if (this.opts.rounds && r.from > first) this.noteSent(to, author, first, r.from - 1);
          if (r.from <= r.to && r.from < first + rows.length) break sending; // the turn ended mid-range
          if (r.from > r.to) list.pop();
        }
        box.delete(author);
      }
      out.flush();
    } catch (err) {
      // The ledger was closed, or the read failed: drop what is left; the peer's next have asks again.
      this.outboxes.delete(to);
      this.incoming.length = 0;
      this.opts.onInvalid?.(`sending to ${to} stopped: ${(err as Error).message}`, null);
      return;
    } finally {
      this.pumping = undefined;
    }
    if (this.incoming.length) addRanges(box, this.incoming.splice(0));
    if (box.size === 0) this.outboxes.delete(to);
    else if (!(this.opts.congested?.(to) ?? false)) this.schedule(to);
  }

  /** Collects canonical lines into `batch` messages to `to`, each under maxMessageBytes. */
  private batcher(to: string): { push(json: string, what: () => string): void; fits(json: string): boolean; flush(): void; readonly sent: number } {
    // Sized as codec.ts sends it: a header line, then each entry on a line of its own.
    const base = Buffer.byteLength(JSON.stringify({ kind: 'batch', node: this.node, to }));
    let batch: string[] = [];
    let size = base;
    let sent = 0;
    const flush = () => {
      if (batch.length) (this.send(to, { kind: 'batch', node: this.node, to, entries: batch }), sent++);
      batch = [];
      size = base;
    };
    // Would `json` go into the current batch? (One too large for any batch is dropped by push.)
    const fits = (json: string) => {
      const cost = Buffer.byteLength(json) + 1;
      return batch.length === 0 || base + cost > this.maxMessageBytes || size + cost <= this.maxMessageBytes;
    };
    const push = (json: string, what: () => string) => {
      const cost = Buffer.byteLength(json) + 1; // a newline, then the line
      if (base + cost > this.maxMessageBytes) {
        this.opts.onInvalid?.(`${what()} (${cost} bytes encoded) exceeds maxMessageBytes ${this.maxMessageBytes}; raise the limit`, null);
        return;
      }
      if (size + cost > this.maxMessageBytes) flush();
      size += cost;
      batch.push(json);
    };
    return { push, fits, flush, get sent() { return sent; } };
  }
}
