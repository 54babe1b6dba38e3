/**
 * Sync over a publish/subscribe bus, written once for every node (DESIGN §2, §6, §7). The edge
 * agent and the coordinator hand it a `Bus` (MQTT.js, aedes in process) and a store; they write
 * no sync logic of their own.
 *
 * - Own entries go out live on `feed/<author>`, and the feed's signed head, retained, on
 *   `head/<author>`; a relay (the coordinator) also republishes the heads of the feeds it
 *   learns and relays entries submitted to it (compare-and-set, DESIGN §3).
 * - Each replica pulls what it lacks: retained heads, live entries past a gap and peers' `have`s
 *   become wants addressed to one replica (`sync/<self>/want/<to>`); only that replica answers,
 *   with batches addressed back, sent in slices that yield to the event loop (an edge keeps
 *   deciding taps while it serves a catch-up) and no faster than the bus takes them.
 * - Every `have` and status is signed under the sync domain. A trusted coordinator's signed
 *   have says what it holds: what it holds of this node's feed is the acknowledgement, and
 *   holding everything it holds confirms the rules fresh (persisted, DESIGN §6).
 * Nothing from the bus is trusted unverified: payloads are size-checked, parsed with the
 * protocol's schemas and dropped with a reason (never thrown) when bad.
 */
import {
  MAX_HAVE_FORKS, MIN_SYNC_MESSAGE_BYTES, NodeStatus, canonicalString, parseEntryText, topics,
  type AnyEntry, type HaveMessage, type SyncMessage,
} from '@keymesh/protocol';
import type { BusMessage } from '../bus/bus.js';
import type { IngestResult } from '../types.js';
import { decodeSyncMessage, encodeSyncText } from './codec.js';
import { SyncEngine } from './engine.js';
import { Freshness } from './freshness.js';
import { Outbound } from './outbound.js';
import { PeerGate } from './peers.js';
import { HeadBook } from './heads.js';
import { signSync, signedBy } from './signed.js';
import { INTAKE_MAX_LINES, Intake } from './intake.js';
import { MAX_PEERS, Sources } from './sources.js';
import type { SubmitOutcome } from './store.js';
import { DEFAULT_PUBSUB_MESSAGE_BYTES, MAX_LIVE_FEEDS, RELAY_HEADS_EVERY_MS, type PubSubSyncOptions } from './pubsub-options.js';
import { SyncCounters, boundedHeads } from './counters.js';

export * from './pubsub-options.js';

export class PubSubSync {
  readonly node: string;
  readonly counters = new SyncCounters();
  private readonly t: ReturnType<typeof topics>;
  private readonly engine: SyncEngine;
  private readonly sources: Sources;
  private readonly out: Outbound;
  private readonly maxBytes: number;
  private readonly subs: Array<[string, (m: BusMessage) => void]> = [];
  private readonly intake: Intake;
  private stopped = false;
  private started = false;
  private readonly gate: PeerGate;
  private timer: ReturnType<typeof setInterval> | undefined;
  private offConnection: (() => void) | undefined;
  private readonly heads: HeadBook;
  private acked: number | null = null;
  /** What each peer's signed have says it holds of this node's feed. */
  private readonly ackBy = new Map<string, number>();
  private readonly freshness: Freshness;
  /** Per feed, the seq a live entry may have to be taken without its own signature check (onEntry). */
  private readonly liveNext = new Map<string, number>();
  private headsTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly o: PubSubSyncOptions) {
    this.node = o.key.publicKey;
    this.t = topics(o.site);
    this.maxBytes = o.maxMessageBytes ?? DEFAULT_PUBSUB_MESSAGE_BYTES;
    const interval = o.intervalMs ?? 5000;
    this.sources = new Sources(this.node, o.upstream ?? [], Math.max(6 * interval, 30_000));
    this.engine = new SyncEngine(o.store, this.node, (to, msg) => this.sendTo(to, msg), {
      maxMessageBytes: this.maxBytes,
      batchesPerTurn: Number.POSITIVE_INFINITY,
      sliceMs: o.sliceMs ?? 8,
      readChunk: 200, // the unit a slice's clock is read at
      pushOnHave: false,
      sendAtOnce: false,
      rounds: true,
      congested: (to) => this.out.congested(to),
      onInvalid: (reason) => this.invalid(reason, 'sync'),
      onIngest: (r, from) => this.ingested(r, from),
    });
    this.out = new Outbound(o.bus, o.window ?? 8, o.publishTimeoutMs ?? 30_000, () => this.counters.publishFailed++, (peer) => this.engine.resume(peer));
    this.freshness = new Freshness(o.store);
    this.heads = new HeadBook(o.store, this.sources, o.crypto);
    this.gate = new PeerGate(o.store, o.openPeers ?? false);
    const check = o.store.check && o.store.ingestChecked ? o.store.check.bind(o.store) : undefined;
    this.intake = new Intake((lines, from, checks) => this.safely('storing', () => this.engine.ingestLines(from, lines, checks)), () => this.safely('asking', () => this.planWants()), o.sliceMs ?? 8, o.storeChunk, check);
    if (this.maxBytes < MIN_SYNC_MESSAGE_BYTES) throw new RangeError(`maxMessageBytes ${this.maxBytes} is below MIN_SYNC_MESSAGE_BYTES (${MIN_SYNC_MESSAGE_BYTES})`);
  }

  /** Subscribes, starts the timer, and announces this node when the bus is up. Again after stop(): starts anew; while started: nothing. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.stopped = false;
    const f = this.t.filters;
    const on = (filter: string, h: (m: BusMessage) => void) => this.subs.push([filter, (m) => this.guard(m, h)]);
    on(f.feeds, (m) => this.onEntry(m, 'feed'));
    on(f.heads, (m) => this.onEntry(m, 'head'));
    // A node with an upstream hears only its haves: N edges hearing each other's would cost N² a round.
    const upstream = this.o.upstream ?? [];
    if (upstream.length) for (const u of upstream) on(this.t.have(u), (m) => this.onHave(m));
    else on(f.haves, (m) => this.onHave(m));
    on(f.wantsTo(this.node), (m) => this.onAddressed(m, 'want'));
    on(f.batchesTo(this.node), (m) => this.onAddressed(m, 'batch'));
    this.offConnection = this.o.bus.onConnection((up) => up && this.safely('announcing', () => this.announce()));
    for (const [filter, h] of this.subs) await this.o.bus.subscribe(filter, h);
    const interval = this.o.intervalMs ?? 5000;
    if (interval > 0) (this.timer = setInterval(() => this.tick(), interval)).unref?.();
    if (this.o.bus.connected) this.safely('announcing', () => this.announce());
  }

  /** Stops listening; what is still queued is not stored (it is asked again after a restart). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.started = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.headsTimer) clearTimeout(this.headsTimer);
    this.headsTimer = undefined;
    this.engine.clear();
    this.offConnection?.();
    for (const [filter, h] of this.subs.splice(0)) await this.o.bus.unsubscribe(filter, h).catch(() => undefined);
  }

  /** Whether batches are still being sent or live entries wait to be stored. */
  get busy(): boolean {
    return this.engine.sending || this.intake.size > 0 || this.out.busy;
  }

  /**
   * Publishes entries this node appended, then its head. They are made durable first (DESIGN §4:
   * an entry published and then lost in a power cut would be re-signed differently: a fork).
   */
  publishEntries(entries: ReadonlyArray<AnyEntry | string>): void {
    this.o.store.flush();
    for (const e of entries) {
      const { entry, text } = typeof e === 'string' ? parseEntryText(e) : { entry: e, text: canonicalString(e) };
      this.publish(this.t.feed(entry.author), text, false);
    }
    this.publishHeads(this.o.relay ? undefined : [this.node]);
  }

  /**
   * Offers an entry for relay (the coordinator's API; DESIGN §3): stored only if it extends the
   * author's head held here, then published live; a refusal stores nothing and carries the head.
   */
  submit(text: string): SubmitOutcome {
    const out = this.o.store.submit(text);
    if (out.ok) {
      this.publish(this.t.feed(out.entry.author), out.text, false);
      this.publishHeads([out.entry.author]);
    }
    return out;
  }

  /** One round: the signed have, the status, and wants for whatever is still missing. */
  tick(): void {
    if (!this.o.bus.connected) return;
    this.safely('a round', () => {
      this.gate.nextRound();
      this.engine.newRound();
      this.publishHave();
      this.sources.expire(this.o.store.heads());
      this.planWants();
      this.publishStatus();
    });
  }

  /** Runs sync's own work so that a store that fails (closed, disk error) is reported, never thrown into a timer. */
  private safely(what: string, work: () => void): void {
    if (this.stopped) return;
    try {
      work();
    } catch (err) {
      this.invalid(`${what} failed: ${(err as Error).message}`, 'sync');
    }
  }

  /** The coordinator on start: the broker's retained heads are not the store (DESIGN §7). */
  republishHeads(): void {
    this.heads.forgetPublished();
    this.publishHeads(undefined);
  }

  /** The node's status as published (DESIGN §7). */
  status(): NodeStatus {
    const now = this.o.store.now();
    this.o.store.flush(); // announced: nothing undurable may be claimed
    const mine = this.o.store.heads();
    const body = {
      node: this.node,
      online: true,
      versions: this.o.versions ?? {},
      head: mine[this.node] ?? 0,
      acked: this.acked,
      rulesFreshAt: this.freshness.freshAt,
      rulesAgeMs: this.freshness.freshAt === null ? null : Math.max(0, now - this.freshness.freshAt),
      syncLag: this.sources.lag(mine),
      heldForNewerVersion: this.o.store.heldForNewerVersion(),
      at: now,
    };
    return signSync(body, this.o.key, this.o.crypto);
  }

  /** What the upstream coordinator has acknowledged of this node's feed (null: not heard yet). */
  get acknowledged(): number | null {
    return this.acked;
  }

  /** What `peer` last said, signed, it holds of this node's feed (undefined: no signed have from it yet). */
  acknowledgedBy(peer: string): number | undefined {
    return this.ackBy.get(peer);
  }

  /** When the rules were last confirmed fresh (ms; null: never). */
  get rulesFreshAt(): number | null {
    return this.freshness.freshAt;
  }

  private announce(): void {
    this.publishHave();
    this.publishHeads(this.o.relay ? undefined : [this.node]);
    this.publishStatus();
  }

  private publishHave(): void {
    const forks = this.o.store.forkClaims(MAX_HAVE_FORKS);
    this.o.store.flush(); // announced: nothing undurable may be claimed
    const all = this.o.store.heads();
    const heads = boundedHeads(all, this.node, this.maxBytes / 2);
    const partial = Object.keys(heads).length < Object.keys(all).length;
    const unsigned = { kind: 'have' as const, node: this.node, heads, ...(Object.keys(forks).length ? { forks } : {}), at: this.o.store.now(), ...(partial ? { partial: true as const } : {}) };
    const have: HaveMessage = signSync(unsigned, this.o.key, this.o.crypto);
    this.out.publish(this.t.have(this.node), encodeSyncText(have));
  }

  private publishStatus(): void {
    this.publish(this.t.status(this.node), JSON.stringify(this.status()), true);
  }

  private scheduleHeads(): void {
    if (this.headsTimer || this.stopped) return;
    this.headsTimer = setTimeout(() => {
      this.headsTimer = undefined;
      this.safely('publishing heads', () => this.publishHeads(undefined));
    }, RELAY_HEADS_EVERY_MS);
  }

  /** Retained heads of `authors` (all held, for a relay) that advanced past what was published. */
  private publishHeads(authors: readonly string[] | undefined): void {
    for (const { author, line } of this.heads.toPublish(authors)) this.publish(this.t.head(author), line, true);
  }


  private planWants(): void {
    const mine = this.o.store.heads();
    for (const [to, ranges] of this.sources.plan(mine, Date.now())) this.engine.sendWants(to, ranges);
  }

  private sendTo(to: string, msg: SyncMessage): void {
    const topic = msg.kind === 'want' ? this.t.want(this.node, to) : msg.kind === 'batch' ? this.t.batch(this.node, to) : this.t.have(this.node);
    if (msg.kind === 'batch') this.counters.batchesSent++;
    if (msg.kind === 'want') (msg = signSync(msg, this.o.key, this.o.crypto), this.gate.asked(to));
    this.out.send(to, topic, encodeSyncText(msg));
  }

  private publish(topic: string, text: string, retain: boolean): void {
    this.out.publish(topic, text, retain);
  }

  /** Size check, and no handler ever throws into the bus. */
  private guard(m: BusMessage, handle: (m: BusMessage) => void): void {
    if (m.payload.byteLength > this.maxBytes) return this.invalid(`message of ${m.payload.byteLength} bytes exceeds the limit ${this.maxBytes}`, m.topic);
    try {
      handle(m);
    } catch (err) {
      this.invalid(`could not be handled: ${(err as Error).message}`, m.topic);
    }
  }

  private invalid(reason: string, topic: string): void {
    this.counters.invalid++;
    this.o.onInvalid?.(reason, topic);
  }

  /** `feed/<author>` and `head/<author>`: one signed entry, its author named by the topic. */
  private onEntry(m: BusMessage, kind: 'feed' | 'head'): void {
    const author = m.topic.slice(m.topic.lastIndexOf('/') + 1);
    if (m.payload.byteLength === 0) return; // a cleared retained head
    let parsed: ReturnType<typeof parseEntryText>;
    try {
      parsed = parseEntryText(m.payload);
    } catch (err) {
      return this.invalid(`${kind} payload is not an entry: ${(err as Error).message}`, m.topic);
    }
    if (parsed.entry.author !== author) return this.invalid(`${kind} entry by ${parsed.entry.author.slice(0, 12)}… on the topic of ${author.slice(0, 12)}…`, m.topic);
    // Its own entries echoed by the broker. One past its head is not: its feed is ahead elsewhere
    // (a wiped node with its old key), and the ledger must see it before the node appends (DESIGN §10).
    if (author === this.node && parsed.entry.seq <= (this.o.store.heads()[author] ?? 0)) return;
    // Only a signed entry by a key that holds authority says a feed is ahead (DESIGN §3): else
    // anyone could make this node ask for entries that do not exist, round after round.
    // A live entry right after the last one taken (or the stored head) needs no signature check
    // of its own here: it is stored with the run it belongs to, whose hash links and newest
    // signature the ledger checks (DESIGN §4), and it cannot mark the feed as ahead. One check
    // per live entry would cap a coordinator's ingest at one core's verify rate.
    const seq = parsed.entry.seq;
    const next = Math.max(this.o.store.seqOf(author) + 1, this.liveNext.get(author) ?? 0);
    if (!(kind === 'feed' && seq === next) && !this.heads.heard(parsed.entry)) return this.invalid(`${kind} entry ${author.slice(0, 12)}…/${seq} does not verify`, m.topic);
    if (kind === 'feed' && seq >= next) {
      this.liveNext.delete(author);
      this.liveNext.set(author, seq + 1);
      if (this.liveNext.size > MAX_LIVE_FEEDS) this.liveNext.delete(this.liveNext.keys().next().value!);
    }
    this.take([parsed.text], `${kind}/${author}`);
  }

  private take(lines: readonly string[], from: string): void {
    const dropped = this.intake.push(lines, from);
    if (dropped) this.invalid(`${dropped} entries from ${from} dropped: ${INTAKE_MAX_LINES} are already waiting to be stored`, from);
  }

  private onHave(m: BusMessage): void {
    if (m.retain) return this.invalid('a retained have (a stale claim kept by the broker)', m.topic);
    const from = m.topic.split('/').at(-2)!;
    if (from === this.node) return;
    const d = decodeSyncMessage(m.payload);
    if (!d.ok) return this.invalid(`have: ${d.reason}`, m.topic);
    const msg = d.msg;
    if (msg.kind !== 'have' || msg.node !== from) return this.invalid(`a ${msg.kind} from ${msg.kind === 'have' ? msg.node.slice(0, 12) : '?'}… on the have topic of ${from.slice(0, 12)}…`, m.topic);
    if (!signedBy(msg, from, this.o.crypto)) return this.invalid(`have from ${from.slice(0, 12)}… is not signed by it`, m.topic);
    if (!this.gate.takeHave(from, msg.at)) return this.invalid(`have from ${from.slice(0, 12)}… ignored: a key without authority here, or not newer than its last`, m.topic);
    this.counters.haves++;
    // Only feeds worth asking for: held here, or of keys with authority (a have may name 1,024
    // invented ones). A replica holding nothing yet knows no authority: it asks for the genesis.
    const held = this.o.store.heads();
    const empty = Object.keys(held).length === 0;
    const claim: Record<string, number> = {};
    for (const [a, seq] of Object.entries(msg.heads)) if (empty || a in held || this.o.store.hasAuthority(a)) claim[a] = seq;
    this.sources.noteClaim(from, claim, Date.now(), held);
    this.ackBy.delete(from);
    this.ackBy.set(from, msg.heads[this.node] ?? 0);
    if (this.ackBy.size > MAX_PEERS) this.ackBy.delete(this.ackBy.keys().next().value!);
    this.o.store.noteRemoteHeads(from, msg.heads);
    if (this.isUpstream(from) && this.o.store.isTrustedCoordinator(from)) {
      // A partial have may just not name this feed; a complete one that does not holds none of it.
      if (!msg.partial) this.acked = msg.heads[this.node] ?? 0;
      else if (msg.heads[this.node] !== undefined) this.acked = msg.heads[this.node]!;
      if (!msg.partial) this.freshness.noteCoordinator(from, msg.heads, msg.at ?? 0);
    }
    const forks = this.o.store.forkClaims(MAX_HAVE_FORKS);
    const lacking = Object.entries(msg.forks ?? {}).filter(([a, f]) => !forks[a] || forks[a]!.seq > f.seq || forks[a]!.entries < f.entries).map(([author, f]) => ({ author, seq: f.seq }));
    if (lacking.length) this.engine.sendWants(from, [], lacking);
    this.planWants();
  }

  private isUpstream(node: string): boolean {
    return (this.o.upstream ?? []).length === 0 || this.o.upstream!.includes(node);
  }

  /** `sync/<from>/want/<self>` and `sync/<from>/batch/<self>`: answered only when truly addressed here. */
  private onAddressed(m: BusMessage, kind: 'want' | 'batch'): void {
    if (m.retain) return this.invalid(`a retained ${kind} (sync messages are never retained: it would be answered again on every reconnection)`, m.topic);
    const parts = m.topic.split('/');
    const [from, to] = [parts.at(-3)!, parts.at(-1)!];
    const d = decodeSyncMessage(m.payload);
    if (!d.ok) return this.invalid(`${kind}: ${d.reason}`, m.topic);
    const msg = d.msg;
    if (msg.kind !== kind || msg.node !== from || to !== this.node || ('to' in msg && msg.to !== this.node)) {
      this.counters.misaddressed++;
      return this.invalid(`a ${msg.kind} on ${kind} topic ${from.slice(0, 12)}…→${to.slice(0, 12)}… is not addressed to this node`, m.topic);
    }
    if (msg.kind === 'batch') {
      if (!this.gate.takeBatch(from)) return this.invalid(`batch from ${from.slice(0, 12)}…, which was not asked`, m.topic);
      return this.take(msg.entries, from);
    }
    if (!signedBy(msg, from, this.o.crypto)) return this.invalid(`want from ${from.slice(0, 12)}… is not signed by it`, m.topic);
    if (!this.gate.takeWant(from)) return this.invalid(`want from ${from.slice(0, 12)}… not answered: a key without authority here, or past its share this round`, m.topic);
    this.counters.wantsAnswered++;
    const forks = msg.forks?.length && this.gate.takeProofRequest(from) ? msg.forks : undefined;
    this.engine.receive(from, { ...msg, forks });
  }

  private ingested(r: IngestResult, from: string): void {
    if (r.accepted > 0) this.heads.recheck();
    if (this.o.relay && r.accepted > 0) this.scheduleHeads();
    if (r.accepted > 0) this.freshness.check();
    this.counters.accepted += r.accepted;
    this.o.onIngest?.(r, from);
  }
}
