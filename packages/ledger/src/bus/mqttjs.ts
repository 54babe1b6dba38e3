/**
 * A `Bus` over an MQTT.js client (the edge agent; a coordinator on an external broker; tests
 * over aedes). Only the client's type is imported: the caller makes the client (`mqtt.connect`)
 * with its own login and options, so the ledger ships no MQTT dependency.
 *
 * Publishing while disconnected rejects rather than queueing in MQTT.js's offline store: sync
 * asks again after a reconnection, and a queue of stale batches would only delay it.
 * Subscriptions are restored on reconnect (by MQTT.js, or here when the caller reconnects by
 * itself), and the broker then sends the retained messages again.
 */
import { Buffer } from 'node:buffer';
import type { MqttClient } from 'mqtt';
import { topicMatches, type Bus, type BusHandler, type PublishOptions } from './bus.js';

export class MqttJsBus implements Bus {
  private readonly handlers = new Map<string, Set<BusHandler>>();
  private readonly listeners = new Set<(up: boolean) => void>();

  /** `onError`: a handler that threw (the others still get the message). */
  constructor(readonly client: MqttClient, private readonly onError: (err: unknown, topic: string) => void = () => undefined) {
    client.on('message', (topic, payload, packet) => {
      const msg = { topic, payload: new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength), retain: packet.retain === true };
      for (const [filter, set] of this.handlers) {
        if (!topicMatches(filter, topic)) continue;
        for (const h of [...set]) {
          try {
            h(msg);
          } catch (err) {
            this.onError(err, topic);
          }
        }
      }
    });
    // Nagle's algorithm held each small QoS 1 publish until the previous one was acknowledged:
    // tens of ms per message. MQTT.js does not turn it off on its TCP socket; this does.
    const noDelay = () => (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
    noDelay();
    // MQTT.js restores subscriptions only when it reconnects by itself (reconnectPeriod > 0), and
    // fails a subscription asked while an attempt is pending. A caller that reconnects with
    // client.reconnect() (the edge agent: a fresh login token each attempt, and it must start with
    // the broker down) gets them made here on each connection, before the bus says it is up.
    client.on('connect', () => {
      noDelay();
      if (!this.selfReconnecting) for (const filter of this.handlers.keys()) client.subscribe(filter, { qos: 1 }, (err) => err && this.onError(err, filter));
      this.emit(true);
    });
    client.on('close', () => this.emit(false));
  }

  get connected(): boolean {
    return this.client.connected;
  }

  private get selfReconnecting(): boolean {
    return (this.client.options.reconnectPeriod ?? 0) > 0;
  }

  async publish(topic: string, payload: Uint8Array, opts: PublishOptions = {}): Promise<void> {
    if (!this.client.connected) throw new Error(`not connected to the broker: ${topic} not published`);
    await this.client.publishAsync(topic, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), { qos: opts.qos ?? 0, retain: opts.retain ?? false });
  }

  /** MQTT.js writes a string payload to the socket as it is (its length counted in UTF-8 bytes). */
  async publishText(topic: string, text: string, opts: PublishOptions = {}): Promise<void> {
    if (!this.client.connected) throw new Error(`not connected to the broker: ${topic} not published`);
    await this.client.publishAsync(topic, text, { qos: opts.qos ?? 0, retain: opts.retain ?? false });
  }

  async subscribe(filter: string, handler: BusHandler): Promise<void> {
    const set = this.handlers.get(filter) ?? new Set();
    set.add(handler);
    this.handlers.set(filter, set);
    if (!this.client.connected && !this.selfReconnecting) return; // made on the next connection (above)
    try {
      await this.client.subscribeAsync(filter, { qos: 1 });
    } catch (err) {
      set.delete(handler); // refused: nothing is left listening for it
      if (set.size === 0) this.handlers.delete(filter);
      throw err;
    }
  }

  async unsubscribe(filter: string, handler: BusHandler): Promise<void> {
    const set = this.handlers.get(filter);
    if (!set?.delete(handler) || set.size > 0) return;
    this.handlers.delete(filter);
    if (this.client.connected) await this.client.unsubscribeAsync(filter);
  }

  onConnection(listener: (connected: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(up: boolean): void {
    for (const l of [...this.listeners]) l(up);
  }
}
