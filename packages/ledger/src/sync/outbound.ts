/**
 * Publishing for sync: every message through the bus at QoS 1, and per peer a window of batches
 * in flight. A publish the broker never acknowledges counts as failed after `timeoutMs` and
 * frees its place, so one stalled peer cannot hold its window shut for ever. Messages are text,
 * handed to the bus as text when it takes text (`publishText`, see bus.ts), else as UTF-8 bytes.
 */
import { Buffer } from 'node:buffer';
import type { Bus, PublishOptions } from '../bus/bus.js';

export class Outbound {
  private readonly inflight = new Map<string, number>();

  constructor(
    private readonly bus: Bus,
    private readonly window: number,
    private readonly timeoutMs: number,
    private readonly failed: () => void,
    private readonly drained: (peer: string) => void,
  ) {}

  congested(peer: string): boolean {
    return (this.inflight.get(peer) ?? 0) >= this.window;
  }

  get busy(): boolean {
    return this.inflight.size > 0;
  }

  /** Publishes without a peer's window (haves, heads, statuses, live entries). */
  publish(topic: string, text: string, retain = false): void {
    this.emit(topic, text, { qos: 1, retain }).catch(this.failed);
  }

  /** Publishes a message for `peer`, counted in its window until acknowledged or timed out. */
  send(peer: string, topic: string, text: string): void {
    this.inflight.set(peer, (this.inflight.get(peer) ?? 0) + 1);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('publish timed out')), this.timeoutMs)));
    timer?.unref?.();
    Promise.race([this.emit(topic, text, { qos: 1 }), timeout]).catch(this.failed).finally(() => {
      clearTimeout(timer);
      const n = (this.inflight.get(peer) ?? 1) - 1;
      if (n > 0) this.inflight.set(peer, n);
      else this.inflight.delete(peer);
      this.drained(peer);
    });
  }

  private emit(topic: string, text: string, opts: PublishOptions): Promise<void> {
    return this.bus.publishText ? this.bus.publishText(topic, text, opts) : this.bus.publish(topic, Buffer.from(text), opts);
  }
}
