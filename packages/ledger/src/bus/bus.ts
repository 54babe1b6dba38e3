/**
 * The one seam between sync and a publish/subscribe transport (DESIGN §2, §7). `PubSubSync`
 * speaks only this; the edge agent adapts it to MQTT.js, the coordinator to aedes in process,
 * and tests use the in-memory bus of `@keymesh/testkit`. MQTT 3.1.1 semantics: topic filters
 * with `+` and `#`, retained messages delivered on subscribe (flagged `retain`), QoS 0 or 1.
 */
export type QoS = 0 | 1;

export interface PublishOptions {
  qos?: QoS;
  /** Kept by the broker and delivered to later subscribers (flagged `retain: true` to them). */
  retain?: boolean;
}

export interface BusMessage {
  topic: string;
  payload: Uint8Array;
  /** True only for a retained message delivered because of a subscription (never for a live one). */
  retain: boolean;
}

export type BusHandler = (msg: BusMessage) => void;

export interface Bus {
  /** Whether the transport is connected now. */
  readonly connected: boolean;
  /**
   * Publishes a message. Resolves once the transport has taken it (QoS 1: acknowledged by the
   * broker); rejects when it cannot be sent (not connected, too large). Callers that do not
   * await must still catch.
   */
  publish(topic: string, payload: Uint8Array, opts?: PublishOptions): Promise<void>;
  /**
   * Publishes `text` as its UTF-8 bytes, as `publish` does (optional). A transport that writes a
   * string to its socket as it is implements it (MQTT.js): sync's batches (up to 128 KiB) then
   * never become Buffers outside V8's heap, which only a full GC frees, so an edge serving a
   * catch-up held tens of MB of sent batches (DESIGN §12: 150 MB). Without it, sync publishes
   * the bytes.
   */
  publishText?(topic: string, text: string, opts?: PublishOptions): Promise<void>;
  /** Subscribes `handler` to `filter`; retained messages that match are delivered to it. */
  subscribe(filter: string, handler: BusHandler): Promise<void>;
  /** Removes `handler` from `filter` (the subscription ends when no handler is left). */
  unsubscribe(filter: string, handler: BusHandler): Promise<void>;
  /**
   * Called with `true` on every (re)connection, `false` on every loss. Subscriptions survive a
   * reconnection (the adapter restores them); retained messages are delivered again after it.
   * Returns a function that removes the listener.
   */
  onConnection(listener: (connected: boolean) => void): () => void;
}

/** Does an MQTT topic filter (`+` one level, `#` the rest) match a topic name? */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  // Topics starting with `$` are not matched by wildcards at the first level (MQTT 3.1.1 §4.7.2).
  if (t[0]?.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    const part = f[i];
    if (part === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (part !== '+' && part !== t[i]) return false;
  }
  return f.length === t.length;
}

/** A filter as MQTT allows it: `#` only last and alone in its level, `+` alone in its level. */
export function isValidFilter(filter: string): boolean {
  if (!filter || filter.length > 65_535) return false;
  const parts = filter.split('/');
  return parts.every((p, i) => (p === '#' ? i === parts.length - 1 : p === '+' || (!p.includes('#') && !p.includes('+'))));
}

/** A topic name as MQTT allows it for a publish: no wildcards, not empty. */
export function isValidTopic(topic: string): boolean {
  return topic.length > 0 && topic.length <= 65_535 && !topic.includes('+') && !topic.includes('#');
}
