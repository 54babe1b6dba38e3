/**
 * The coordinator's own `Bus` (packages/ledger bus.ts) straight onto its embedded aedes: its
 * PubSubSync publishes and subscribes in process, without a socket or a login. Those publishes
 * bypass the client hooks (the coordinator is trusted by its own process, not by the broker);
 * what reaches it from clients has passed them. Connected while the broker runs.
 *
 * As with MQTT: retained messages that match are delivered on subscribe (flagged `retain`),
 * live ones never are, and wildcards at the first level do not match `$` topics.
 */
import { Buffer } from 'node:buffer';
import type { Aedes, AedesPublishPacket } from 'aedes';
import { isValidFilter, isValidTopic, type Bus, type BusHandler, type BusMessage, type PublishOptions } from '@keymesh/ledger';

type Deliver = (packet: AedesPublishPacket, cb: () => void) => void;

interface RetainedPersistence {
  createRetainedStreamCombi(patterns: string[]): AsyncIterable<{ topic: string; payload: Buffer }>;
}

function view(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export class InProcessBus implements Bus {
  private readonly subs = new Map<string, { handlers: Set<BusHandler>; deliver: Deliver }>();
  private readonly listeners = new Set<(up: boolean) => void>();
  private up = true;

  /** `onError`: a handler that threw (the others still get the message). */
  constructor(private readonly aedes: Aedes, readonly clientId: string, private readonly onError: (err: unknown, topic: string) => void = () => undefined) {}

  get connected(): boolean {
    return this.up && !this.aedes.closed;
  }

  publish(topic: string, payload: Uint8Array, opts: PublishOptions = {}): Promise<void> {
    if (!this.connected) return Promise.reject(new Error(`the embedded broker is closed: ${topic} not published`));
    if (!isValidTopic(topic)) return Promise.reject(new Error(`not a topic name: ${JSON.stringify(topic.slice(0, 200))}`));
    // A copy: a retained message is kept by reference, and the caller owns its bytes.
    const packet = { cmd: 'publish' as const, topic, payload: Buffer.from(payload), qos: opts.qos ?? 0, retain: opts.retain ?? false, dup: false };
    return new Promise((resolve, reject) => this.aedes.publish(packet, (err) => (err ? reject(err) : resolve())));
  }

  async subscribe(filter: string, handler: BusHandler): Promise<void> {
    if (!this.connected) throw new Error(`the embedded broker is closed: ${filter} not subscribed`);
    if (!isValidFilter(filter)) throw new Error(`not a topic filter: ${JSON.stringify(filter.slice(0, 200))}`);
    const wildFirst = filter.startsWith('+') || filter.startsWith('#');
    let sub = this.subs.get(filter);
    if (!sub) {
      const handlers = new Set<BusHandler>();
      const deliver: Deliver = (packet, cb) => {
        if (!(wildFirst && packet.topic.startsWith('$'))) this.dispatch(handlers, { topic: packet.topic, payload: view(packet.payload as Buffer), retain: false });
        cb();
      };
      sub = { handlers, deliver };
      this.subs.set(filter, sub);
      const s = sub;
      await new Promise<void>((resolve) => this.aedes.subscribe(filter, s.deliver, resolve));
    }
    sub.handlers.add(handler);
    // Retained messages go to this handler alone (the others had theirs when they subscribed).
    const store = (this.aedes as unknown as { persistence: RetainedPersistence }).persistence;
    for await (const p of store.createRetainedStreamCombi([filter])) {
      if (!sub.handlers.has(handler)) break;
      if (wildFirst && p.topic.startsWith('$')) continue;
      this.dispatch(new Set([handler]), { topic: p.topic, payload: view(p.payload), retain: true });
    }
  }

  async unsubscribe(filter: string, handler: BusHandler): Promise<void> {
    const sub = this.subs.get(filter);
    if (!sub?.handlers.delete(handler) || sub.handlers.size > 0) return;
    this.subs.delete(filter);
    if (!this.aedes.closed) await new Promise<void>((resolve) => this.aedes.unsubscribe(filter, sub.deliver, resolve));
  }

  onConnection(listener: (connected: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The broker is closing: listeners hear `false` once. */
  down(): void {
    if (!this.up) return;
    this.up = false;
    for (const l of [...this.listeners]) l(false);
  }

  private dispatch(handlers: Iterable<BusHandler>, msg: BusMessage): void {
    for (const h of [...handlers]) {
      try {
        h(msg);
      } catch (err) {
        this.onError(err, msg.topic);
      }
    }
  }
}
