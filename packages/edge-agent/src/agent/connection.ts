/**
 * The edge's MQTT connection (DESIGN §3, §6-7): a login token made fresh for every attempt (a
 * token is good once, within ±5 min of the coordinator's clock, so MQTT.js's own reconnection,
 * which resends the same password, cannot be used for it), or the external broker's
 * username/password from the provisioning file; reconnection with exponential backoff and
 * jitter; an unsigned offline status as Last Will (the node is gone when it is sent, so it can
 * only say "offline"). Starting never waits for the broker: the network is never needed to
 * decide a tap.
 */
import { Buffer } from 'node:buffer';
import mqtt, { type MqttClient } from 'mqtt';
import { makeLoginToken, topics, type BrokerAddress, type KeyPair, type NodeStatus } from '@keymesh/protocol';

export interface BackoffOptions {
  /** First wait after a lost connection, ms. */
  minMs: number;
  /** Longest wait, ms. */
  maxMs: number;
}

/** How long a clean disconnect may take before the connection is dropped. */
const CLOSE_WAIT_MS = 2000;

export const DEFAULT_BACKOFF: BackoffOptions = { minMs: 500, maxMs: 30_000 };

/** The wait before attempt `n` (0-based): doubling from minMs up to maxMs, with ±25 % jitter so a site's nodes do not all return at once. */
export function backoffMs(n: number, o: BackoffOptions, random = Math.random): number {
  const base = Math.min(o.maxMs, o.minMs * 2 ** Math.min(n, 30));
  return Math.round(base * (0.75 + random() * 0.5));
}

export function offlineWill(node: string, at: number): NodeStatus {
  return { node, online: false, versions: {}, head: 0, acked: null, rulesFreshAt: null, rulesAgeMs: null, syncLag: 0, heldForNewerVersion: 0, at };
}

export interface ConnectionOptions {
  broker: BrokerAddress;
  site: string;
  key: KeyPair;
  /** The node's `now` (the ledger's): a Pi's wall clock may lag the coordinator's. */
  now: () => number;
  backoff?: BackoffOptions;
  onState?: (up: boolean, detail: string) => void;
}

export class EdgeConnection {
  readonly client: MqttClient;
  private attempts = 0;
  private timer: NodeJS.Timeout | null = null;
  private closing = false;
  private useWallClock = false;

  constructor(private readonly o: ConnectionOptions) {
    const clientId = `edge-${o.key.publicKey.slice(0, 16)}`;
    const t = topics(o.site);
    this.client = mqtt.connect(o.broker.url, {
      clientId,
      ...this.credentials(clientId),
      protocolVersion: 4,
      clean: true,
      // Reconnection is ours (below): each attempt needs a new token and a longer wait.
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      keepalive: 30,
      will: { topic: t.status(o.key.publicKey), payload: Buffer.from(JSON.stringify(offlineWill(o.key.publicKey, o.now()))), qos: 1, retain: true },
    });
    this.client.on('connect', () => {
      this.attempts = 0;
      o.onState?.(true, 'connected');
    });
    this.client.on('error', (err) => {
      // Refused: the token's time may be what the broker disputes. The node's `now` can run ahead
      // of a coordinator whose clock was corrected after it stamped a tick; then only the wall
      // clock gets the node back in to learn the correction. Alternate until one is taken.
      if (/not authori[sz]ed/i.test(err.message)) this.useWallClock = !this.useWallClock;
      o.onState?.(false, err.message);
    });
    this.client.on('close', () => {
      o.onState?.(false, 'disconnected');
      this.schedule();
    });
  }

  private credentials(clientId: string): { username: string; password: string } {
    const b = this.o.broker;
    if (b.username !== undefined && b.password !== undefined) return { username: b.username, password: b.password };
    return makeLoginToken({ clientId, site: this.o.site, now: this.useWallClock ? Date.now() : this.o.now() }, this.o.key);
  }

  private schedule(): void {
    if (this.closing || this.timer) return;
    const wait = backoffMs(this.attempts++, this.o.backoff ?? DEFAULT_BACKOFF);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.closing || this.client.connected) return;
      const creds = this.credentials(this.client.options.clientId!);
      this.client.options.username = creds.username;
      this.client.options.password = creds.password;
      // The Last Will's time is when it was set; refresh it with the token.
      const will = this.client.options.will;
      if (will) will.payload = Buffer.from(JSON.stringify(offlineWill(this.o.key.publicKey, this.o.now())));
      this.client.reconnect();
    }, wait);
    this.timer.unref();
  }

  get connected(): boolean {
    return this.client.connected;
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // A clean DISCONNECT when up (no Last Will: the agent published its own signed goodbye);
    // MQTT.js waits for messages in flight, which never finish on a dead link: force it then.
    const clean = this.client.connected ? this.client.endAsync(false).catch(() => undefined) : Promise.resolve();
    const waited = await Promise.race([clean.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), CLOSE_WAIT_MS).unref())]);
    if (!waited || !this.client.disconnected) await this.client.endAsync(true).catch(() => undefined);
  }
}
