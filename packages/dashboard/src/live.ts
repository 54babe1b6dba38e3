/**
 * The page's live view of the site over MQTT-over-WebSocket (`/mqtt` on the coordinator's HTTP
 * server). It logs in as the signing admin: username its public key, password a login token
 * signed in the page (one token per connection: a new one at each reconnect, as the broker
 * refuses a replayed one). Admins may read the whole site but the commands (broker/acl.ts).
 * Payloads are parsed with the protocol's schemas; entries' signatures are verified before a
 * decision is shown; anything else is dropped.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { DECISION_REASONS, NodeState, NodeStatus, makeLoginToken, parseEntryText, pureCrypto, toHex, topics, verifyEntry, type KeyPair } from '@keymesh/protocol';
import type { LogRow } from './api.js';

/** A decision; `card` is the card's reference (never its uid: DESIGN §3). */
export interface Row { hash: string; author: string; seq: number; resource: string; member: string | null; card: string | null; allow: boolean; reason: string; at: number; live: boolean }
export type Conn = 'connecting' | 'online' | 'offline';

const MAX_ROWS = 500;

/** The reason in words (an unknown code, from a newer release, is shown as it is). */
export function reasonWords(code: string): string {
  return (DECISION_REASONS as Record<string, string>)[code] ?? code;
}

export function rowOf(r: LogRow, live = false): Row | null {
  if (r.type !== 'access.decision' || r.allow === null) return null;
  const cred = r.detail.credential as { card?: unknown } | undefined;
  return { hash: r.hash, author: r.author, seq: r.seq, resource: r.resource, member: r.member, card: typeof cred?.card === 'string' ? cred.card : null, allow: r.allow, reason: typeof r.detail.reason === 'string' ? r.detail.reason : '', at: r.at, live };
}

export class Live {
  readonly statuses = new Map<string, NodeStatus>();
  readonly states = new Map<string, NodeState>();
  rows: Row[] = [];
  conn: Conn = 'connecting';
  error: string | null = null;
  private readonly seen = new Set<string>();
  private client: MqttClient | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly t;

  constructor(private readonly site: string, private readonly key: KeyPair) {
    this.t = topics(site);
  }

  onChange(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  private changed(): void {
    for (const f of this.listeners) f();
  }

  /** Rows from the API (older pages) or the bus, deduplicated by hash, newest first. */
  addRows(rows: Row[]): void {
    let added = false;
    for (const r of rows) {
      if (this.seen.has(r.hash)) continue;
      this.seen.add(r.hash);
      this.rows.push(r);
      added = true;
    }
    if (!added) return;
    this.rows.sort((a, b) => b.at - a.at || b.seq - a.seq);
    if (this.rows.length > MAX_ROWS) this.rows.length = MAX_ROWS;
    this.changed();
  }

  connect(): void {
    const clientId = `dashboard-${toHex(pureCrypto.randomBytes(6))}`;
    const login = () => makeLoginToken({ clientId, site: this.site, now: Date.now() }, this.key, pureCrypto);
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/mqtt`;
    const c = mqtt.connect(url, { clientId, clean: true, reconnectPeriod: 1000, connectTimeout: 10_000, protocolVersion: 4, ...login() });
    this.client = c;
    // A login token is good once: each reconnect brings a new one.
    c.on('reconnect', () => Object.assign(c.options, login()));
    c.on('connect', () => {
      this.conn = 'online';
      this.error = null;
      c.subscribe([this.t.root + '/node/+/status', this.t.root + '/node/+/state', this.t.filters.feeds], { qos: 1 });
      this.changed();
    });
    c.on('close', () => {
      if (this.conn !== 'offline') {
        this.conn = 'offline';
        this.changed();
      }
    });
    c.on('error', (e) => {
      this.error = e.message;
      this.changed();
    });
    c.on('message', (topic, payload) => this.receive(topic, payload));
  }

  close(): void {
    this.client?.end(true);
    this.client = null;
  }

  /** Publishes a signed command on `cmd/<node>` (QoS 1, never retained). */
  publishCommand(node: string, payload: string): Promise<void> {
    const c = this.client;
    if (!c || !c.connected) return Promise.reject(new Error('not connected to the broker; wait until the page says live'));
    return new Promise((resolve, reject) => c.publish(this.t.cmd(node), payload, { qos: 1, retain: false }, (err) => (err ? reject(err) : resolve())));
  }

  private receive(topic: string, payload: Uint8Array): void {
    const rest = topic.slice(this.t.root.length + 1).split('/');
    try {
      if (rest[0] === 'node' && rest.length === 3) {
        const json = JSON.parse(new TextDecoder().decode(payload)) as unknown;
        if (rest[2] === 'status') {
          const s = NodeStatus.safeParse(json);
          if (s.success && s.data.node === rest[1]) this.statuses.set(s.data.node, s.data);
        } else if (rest[2] === 'state') {
          const s = NodeState.safeParse(json);
          if (s.success && s.data.node === rest[1]) this.states.set(s.data.node, s.data);
        }
        this.changed();
      } else if (rest[0] === 'feed' && rest.length === 2) {
        const { entry } = parseEntryText(payload);
        if (entry.type !== 'access.decision' || entry.author !== rest[1]) return;
        const v = verifyEntry(entry, pureCrypto);
        if (!v.ok) return;
        const b = entry.body as { resource: string; credential: { card: string }; member: string | null; allow: boolean; reason: string; at: number };
        this.addRows([{ hash: v.hash, author: entry.author, seq: entry.seq, resource: b.resource, member: b.member, card: b.credential.card, allow: b.allow, reason: b.reason, at: b.at, live: true }]);
      }
    } catch {
      // A malformed payload is dropped: the page shows only what parses and verifies.
    }
  }
}
