/**
 * An in-memory MQTT 3.1.1 broker for tests, with faults a property test can replay from a seed.
 *
 * Nothing is delivered inside `publish`: each delivery is queued at a virtual due time, and the
 * test delivers the queue with `settle()` (everything, yielding to the event loop so paced
 * senders keep publishing), `advance(ms)` or `step()`. Delays and reorders are positions in that
 * queue, not real time, so 500 runs with faults take no longer than the work they do.
 * `auto: true` delivers by itself on the event loop instead.
 *
 * Semantics: wildcard filters (`+`, `#`; `$` topics unmatched by a leading wildcard); retained
 * messages kept per topic (an empty retained payload clears it), sent with `retain: true` on
 * subscribe and after a client reconnects, while live deliveries carry `retain: false`; one
 * delivery per client per publish, handed to each of its handlers whose filter matches.
 */
import { isValidTopic, topicMatches, type BusHandler, type PublishOptions, type QoS } from '@keymesh/ledger';
import { DeliveryQueue } from './delivery-queue.js';
import { TestkitError } from './errors.js';
import { MemoryBus, notConnected, type BrokerPort } from './memory-bus.js';
import { seededRng, type Rng } from './rng.js';

export interface BusFaults {
  /** Probability that a delivery to a client is lost. */
  drop?: number;
  /** When true, QoS 1 deliveries are never dropped (a broker's at-least-once); default false. */
  protectQos1?: boolean;
  /** Probability that a delivery is made twice (the copy has its own delay). */
  duplicate?: number;
  /** Virtual delay of each delivery, uniform in [min, max] ms. */
  delayMs?: readonly [min: number, max: number];
  /** Probability that a delivery is held back so that later ones overtake it. */
  reorder?: number;
  /** How far back a reordered delivery is held, at most (virtual ms; default 50). */
  reorderMs?: number;
}

export interface MemoryBrokerOptions {
  /** Seed of every random choice the faults make (default 1). */
  seed?: number;
  faults?: BusFaults;
  /** A publish whose payload is larger is refused with BUS_MESSAGE_TOO_LARGE (default: no limit). */
  maxPayloadBytes?: number;
  /** Deliver on the event loop by itself rather than when the test calls settle()/advance()/step(). */
  auto?: boolean;
  /** settle() fails with BUS_RUNAWAY after this many deliveries in one call (default 1,000,000). */
  maxDeliveries?: number;
}

export interface PublishRecord {
  clientId: string;
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  /** Virtual time of the publish. */
  at: number;
}

export interface DeliveryRecord {
  /** The receiving client. */
  clientId: string;
  /** The publishing client (for a retained message: the one that published it). */
  from: string;
  topic: string;
  payload: Uint8Array;
  retain: boolean;
  at: number;
}

export interface BrokerStats {
  published: number;
  rejected: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  /** Deliveries whose receiver was cut off or gone by the time they were due. */
  lost: number;
}

export interface SettleOptions {
  /** Event-loop turns with nothing queued before settle() returns (default 3, then one timer tick). */
  quietTurns?: number;
}

interface Retained {
  from: string;
  payload: Uint8Array;
  qos: QoS;
}

interface Delivery {
  due: number;
  order: number;
  to: MemoryBus;
  from: string;
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  /** The receiver's connection when queued: a delivery in flight when it is cut off is lost. */
  epoch: number;
  only?: BusHandler;
}

export class MemoryBroker {
  readonly seed: number;
  maxPayloadBytes: number;
  readonly stats: BrokerStats = { published: 0, rejected: 0, delivered: 0, dropped: 0, duplicated: 0, lost: 0 };
  /** Errors thrown by handlers during auto delivery (settle() rethrows the first). */
  readonly errors: unknown[] = [];
  private faultSet: BusFaults;
  private readonly rng: Rng;
  private readonly auto: boolean;
  private readonly maxDeliveries: number;
  private readonly clientsById = new Map<string, MemoryBus>();
  private readonly cutOff = new Set<string>();
  private readonly epochs = new Map<MemoryBus, number>();
  private readonly retainedByTopic = new Map<string, Retained>();
  private readonly queue = new DeliveryQueue<Delivery>();
  private readonly publishTaps = new Set<(p: PublishRecord) => void>();
  private readonly deliverTaps = new Set<(d: DeliveryRecord) => void>();
  private clock = 0;
  private order = 0;
  private pumping = false;
  private readonly port: BrokerPort;

  constructor(opts: MemoryBrokerOptions = {}) {
    this.seed = opts.seed ?? 1;
    this.rng = seededRng(this.seed);
    this.faultSet = checkFaults(opts.faults ?? {});
    this.maxPayloadBytes = opts.maxPayloadBytes ?? Infinity;
    this.auto = opts.auto ?? false;
    this.maxDeliveries = opts.maxDeliveries ?? 1_000_000;
    this.port = {
      publish: (from, topic, payload, o) => this.accept(from, topic, payload, o),
      sendRetained: (to, filter, handler) => this.sendRetained(to, filter, handler),
      leave: (client) => {
        if (this.clientsById.get(client.clientId) === client) this.clientsById.delete(client.clientId);
      },
    };
  }

  /** Virtual time in ms: the due time of the last delivery made. */
  get now(): number {
    return this.clock;
  }

  /** Deliveries queued and not yet made. */
  get pending(): number {
    return this.queue.size;
  }

  get faults(): Readonly<BusFaults> {
    return this.faultSet;
  }

  /** Replaces the faults (e.g. `{}` for a clean final phase); queued deliveries keep their fate. */
  setFaults(faults: BusFaults): void {
    this.faultSet = checkFaults(faults);
  }

  /** A new client, connected unless its id is partitioned. */
  client(clientId: string): MemoryBus {
    if (this.clientsById.has(clientId)) {
      throw new TestkitError('BUS_DUPLICATE_CLIENT', `${JSON.stringify(clientId)}: end() the old client first or pick another id`);
    }
    const bus = new MemoryBus(clientId, this.port, !this.cutOff.has(clientId));
    this.clientsById.set(clientId, bus);
    return bus;
  }

  /** Ids of the clients on the broker now (connected or cut off). */
  clientIds(): string[] {
    return [...this.clientsById.keys()];
  }

  /** Cuts clients off: they hear `false`, their publishes reject, nothing reaches them (queued deliveries are lost). */
  partition(clientIds: Iterable<string>): void {
    for (const id of clientIds) {
      this.cutOff.add(id);
      const bus = this.clientsById.get(id);
      if (!bus) continue;
      this.epochs.set(bus, this.epochOf(bus) + 1);
      bus.setOnline(false);
    }
  }

  /** Reconnects cut-off clients (all when none named): they hear `true` and get the retained messages again. */
  heal(clientIds: Iterable<string> = [...this.cutOff]): void {
    for (const id of [...clientIds]) {
      if (!this.cutOff.delete(id)) continue;
      const bus = this.clientsById.get(id);
      if (!bus) continue;
      for (const s of bus.subscriptions) this.sendRetained(bus, s.filter, s.handler, true);
      bus.setOnline(true);
    }
  }

  isPartitioned(clientId: string): boolean {
    return this.cutOff.has(clientId);
  }

  /** The retained messages held now, by topic. */
  retained(): Map<string, Uint8Array> {
    return new Map([...this.retainedByTopic].map(([t, r]) => [t, r.payload]));
  }

  /** Sees every accepted publish (before it is routed). Returns the remover. */
  onPublish(tap: (p: PublishRecord) => void): () => void {
    this.publishTaps.add(tap);
    return () => this.publishTaps.delete(tap);
  }

  /** Sees every delivery made to a client (before its handlers run). Returns the remover. */
  onDeliver(tap: (d: DeliveryRecord) => void): () => void {
    this.deliverTaps.add(tap);
    return () => this.deliverTaps.delete(tap);
  }

  /** Makes the next queued delivery; false when nothing is queued. Handler errors propagate. */
  step(): boolean {
    const d = this.queue.pop();
    if (!d) return false;
    this.clock = Math.max(this.clock, d.due);
    this.deliver(d);
    return true;
  }

  /** Makes every delivery due within `ms` of virtual time from now, then moves the clock on. */
  advance(ms: number): number {
    const until = this.clock + ms;
    let n = 0;
    while ((this.queue.peek()?.due ?? Infinity) <= until) {
      this.step();
      n++;
    }
    this.clock = until;
    return n;
  }

  /**
   * Delivers until nothing is queued and nothing new is published for a few event-loop turns and
   * one timer tick (so handlers' async work and paced senders finish). Resolves with the number
   * of deliveries made; rejects with a handler's error, or BUS_RUNAWAY past maxDeliveries.
   */
  async settle(opts: SettleOptions = {}): Promise<number> {
    const quietTurns = opts.quietTurns ?? 3;
    let n = 0;
    for (;;) {
      this.rethrow();
      while (this.queue.size > 0) {
        this.step();
        if (++n > this.maxDeliveries) {
          throw new TestkitError('BUS_RUNAWAY', `more than ${this.maxDeliveries} deliveries; a handler may answer every message with another (raise maxDeliveries if the test needs more)`);
        }
        await turn();
        this.rethrow();
      }
      let quiet = true;
      for (let i = 0; i < quietTurns && quiet; i++) {
        await turn();
        quiet = this.queue.size === 0;
      }
      if (quiet) {
        await new Promise((r) => setTimeout(r, 0));
        if (this.queue.size === 0) {
          this.rethrow();
          return n;
        }
      }
    }
  }

  /** Ends every client and forgets what is queued and retained. */
  close(): void {
    for (const c of [...this.clientsById.values()]) c.end();
    this.queue.clear();
    this.retainedByTopic.clear();
  }

  private accept(from: MemoryBus, topic: string, payload: Uint8Array, opts: PublishOptions): void {
    const qos = opts.qos ?? 0;
    const retain = opts.retain ?? false;
    const refuse = (err: TestkitError): never => {
      this.stats.rejected++;
      throw err;
    };
    if (!from.connected || this.clientsById.get(from.clientId) !== from) refuse(notConnected(from.clientId, 'cut off or ended; wait for onConnection(true)'));
    if (!isValidTopic(topic)) refuse(new TestkitError('BUS_BAD_TOPIC', `${JSON.stringify(topic)}: a topic is not empty and holds no "+" or "#"`));
    if (qos !== 0 && qos !== 1) refuse(new TestkitError('BAD_OPTION', `qos ${String(qos)}: use 0 or 1`));
    if (payload.length > this.maxPayloadBytes) {
      refuse(new TestkitError('BUS_MESSAGE_TOO_LARGE', `${payload.length} bytes on ${topic}, the broker takes at most ${this.maxPayloadBytes}; send smaller messages`, { size: payload.length, limit: this.maxPayloadBytes }));
    }
    const bytes = payload.slice();
    this.stats.published++;
    const record: PublishRecord = { clientId: from.clientId, topic, payload: bytes, qos, retain, at: this.clock };
    for (const tap of [...this.publishTaps]) tap(record);
    if (retain) {
      if (bytes.length === 0) this.retainedByTopic.delete(topic);
      else this.retainedByTopic.set(topic, { from: from.clientId, payload: bytes, qos });
    }
    for (const to of this.clientsById.values()) {
      if (to.connected && to.matches(topic, topicMatches)) this.enqueue({ to, from: from.clientId, topic, payload: bytes, qos, retain: false });
    }
  }

  private sendRetained(to: MemoryBus, filter: string, handler: BusHandler, force = false): void {
    if (!force && !to.connected) return;
    for (const [topic, r] of this.retainedByTopic) {
      if (topicMatches(filter, topic)) this.enqueue({ to, from: r.from, topic, payload: r.payload, qos: r.qos, retain: true, only: handler });
    }
  }

  private epochOf(bus: MemoryBus): number {
    return this.epochs.get(bus) ?? 0;
  }

  private enqueue(d: Omit<Delivery, 'due' | 'order' | 'epoch'>): void {
    const f = this.faultSet;
    if (!(f.protectQos1 && d.qos === 1) && this.rng.chance(f.drop ?? 0)) {
      this.stats.dropped++;
      return;
    }
    const copies = this.rng.chance(f.duplicate ?? 0) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      const [min, max] = f.delayMs ?? [0, 0];
      let due = this.clock + this.rng.int(min, max);
      if (this.rng.chance(f.reorder ?? 0)) due += this.rng.int(1, f.reorderMs ?? 50);
      this.queue.push({ ...d, due, order: this.order++, epoch: this.epochOf(d.to) });
    }
    if (this.auto) this.pump();
  }

  private deliver(d: Delivery): void {
    if (!d.to.connected || d.epoch !== this.epochOf(d.to) || this.clientsById.get(d.to.clientId) !== d.to) {
      this.stats.lost++;
      return;
    }
    this.stats.delivered++;
    const payload = d.payload.slice();
    const msg = { topic: d.topic, payload, retain: d.retain };
    const record: DeliveryRecord = { clientId: d.to.clientId, from: d.from, topic: d.topic, payload, retain: d.retain, at: this.clock };
    for (const tap of [...this.deliverTaps]) tap(record);
    d.to.dispatch(msg, topicMatches, d.only);
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    setImmediate(() => {
      this.pumping = false;
      try {
        this.step();
      } catch (err) {
        this.errors.push(err);
      }
      if (this.queue.size > 0) this.pump();
    });
  }

  private rethrow(): void {
    if (this.errors.length > 0) throw this.errors.shift();
  }
}

function turn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

function checkFaults(f: BusFaults): BusFaults {
  for (const k of ['drop', 'duplicate', 'reorder'] as const) {
    const p = f[k];
    if (p !== undefined && !(p >= 0 && p <= 1)) throw new TestkitError('BAD_OPTION', `faults.${k} = ${p}: a probability is in [0, 1]`);
  }
  const [min, max] = f.delayMs ?? [0, 0];
  if (!(Number.isInteger(min) && Number.isInteger(max) && min >= 0 && max >= min)) {
    throw new TestkitError('BAD_OPTION', `faults.delayMs = [${min}, ${max}]: whole ms with 0 <= min <= max`);
  }
  if (f.reorderMs !== undefined && !(Number.isInteger(f.reorderMs) && f.reorderMs >= 1)) {
    throw new TestkitError('BAD_OPTION', `faults.reorderMs = ${f.reorderMs}: a whole number of ms, at least 1`);
  }
  return { ...f };
}
