/**
 * One client's view of a `MemoryBroker`: the ledger's `Bus` interface, as the edge agent's
 * MQTT.js adapter and the coordinator's aedes adapter present it. Handlers are kept per filter;
 * a message the broker routes to this client goes to every handler whose filter matches, the
 * way an adapter dispatches MQTT.js's single `message` event.
 */
import { isValidFilter, type Bus, type BusHandler, type BusMessage, type PublishOptions } from '@keymesh/ledger';
import { TestkitError } from './errors.js';

/** What a client needs from its broker (kept apart so the two files do not import each other). */
export interface BrokerPort {
  publish(from: MemoryBus, topic: string, payload: Uint8Array, opts: PublishOptions): void;
  /** Queues the retained messages matching `filter` for `handler` (a new subscription). */
  sendRetained(to: MemoryBus, filter: string, handler: BusHandler): void;
  leave(client: MemoryBus): void;
}

export interface Subscription {
  readonly filter: string;
  readonly handler: BusHandler;
}

export class MemoryBus implements Bus {
  private online: boolean;
  private readonly subs: Subscription[] = [];
  private readonly listeners = new Set<(connected: boolean) => void>();
  private ended = false;

  /** @internal Made by `MemoryBroker.client()`. */
  constructor(readonly clientId: string, private readonly broker: BrokerPort, connected: boolean) {
    this.online = connected;
  }

  get connected(): boolean {
    return this.online;
  }

  /** The subscriptions held now, in the order they were made. */
  get subscriptions(): readonly Subscription[] {
    return this.subs;
  }

  publish(topic: string, payload: Uint8Array, opts: PublishOptions = {}): Promise<void> {
    try {
      this.broker.publish(this, topic, payload, opts);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  subscribe(filter: string, handler: BusHandler): Promise<void> {
    if (!isValidFilter(filter)) {
      return Promise.reject(new TestkitError('BUS_BAD_FILTER', `${JSON.stringify(filter)}: use "+" or "#" only as a whole level, "#" only last`));
    }
    if (this.ended) return Promise.reject(notConnected(this.clientId, 'it has ended; make a new client'));
    // MQTT replaces an identical subscription (and sends the retained messages again).
    if (!this.subs.some((s) => s.filter === filter && s.handler === handler)) this.subs.push({ filter, handler });
    if (this.online) this.broker.sendRetained(this, filter, handler);
    return Promise.resolve();
  }

  unsubscribe(filter: string, handler: BusHandler): Promise<void> {
    const i = this.subs.findIndex((s) => s.filter === filter && s.handler === handler);
    if (i >= 0) this.subs.splice(i, 1);
    return Promise.resolve();
  }

  onConnection(listener: (connected: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Leaves the broker for good: listeners hear `false`, later publishes reject, the id is free again. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.subs.length = 0;
    this.broker.leave(this);
    this.setOnline(false);
  }

  /** @internal The broker's hook: cut off or reconnected. */
  setOnline(online: boolean): void {
    if (this.ended && online) return;
    if (online === this.online) return;
    this.online = online;
    for (const l of [...this.listeners]) l(online);
  }

  /** Does any subscription of this client match `topic`? */
  matches(topic: string, match: (filter: string, topic: string) => boolean): boolean {
    return this.subs.some((s) => match(s.filter, topic));
  }

  /** @internal Hands a delivered message to the handlers it is for. */
  dispatch(msg: BusMessage, match: (filter: string, topic: string) => boolean, only?: BusHandler): void {
    if (only) {
      // A retained message sent for one subscription: only if that subscription still exists.
      if (this.subs.some((s) => s.handler === only)) only(msg);
      return;
    }
    for (const s of [...this.subs]) if (match(s.filter, msg.topic)) s.handler(msg);
  }
}

export function notConnected(clientId: string, why: string): TestkitError {
  return new TestkitError('BUS_NOT_CONNECTED', `client ${JSON.stringify(clientId)}: ${why}`, { clientId });
}
