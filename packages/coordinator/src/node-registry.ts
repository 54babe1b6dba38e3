/**
 * What the coordinator knows of each node's liveness (DESIGN §6-7): the last verified
 * `node/<x>/status` (signed by x under the sync domain; `online: false` is the unsigned Last
 * Will) and `node/<x>/state` (door locked/open…, machine idle/in use). Only enrolled nodes'
 * messages are kept, each only if newer than the last. They are kept in the ledger's notes, so
 * after a restart the coordinator republishes them retained from SQLite: the broker's memory
 * is not the store.
 */
import { Buffer } from 'node:buffer';
import { LOGIN_WINDOW_MS, NodeState, NodeStatus, topics, type NodeValue } from '@keymesh/protocol';
import { signedBy, type Bus, type BusMessage, type Ledger } from '@keymesh/ledger';
import { TokenBucket, type RateOptions } from './broker/rate-limit.js';

/** A node whose last status is older than this is shown offline even without its Last Will. */
export const STATUS_STALE_MS = 30_000;
const MAX_MESSAGE_BYTES = 4096;
/**
 * A status or state dated further ahead of this clock is refused: a node that far ahead could
 * not log in (its login tokens hold ±LOGIN_WINDOW_MS), and kept, it would outrank every true
 * message after it ("newer than the last" is judged by `at`) until its date came.
 */
export const MAX_AHEAD_MS = LOGIN_WINDOW_MS;
/**
 * Statuses and states taken per node and kind. A node sends a status every sync period (5 s)
 * and a state when its door or machine changes; each taken one costs a signature check and a
 * SQLite write, so a node sending thousands a second (within the broker's rate, which is sized
 * for entries) has the rest dropped before the check and the write. The Last Will is never
 * limited: it costs neither.
 */
export const NODE_MESSAGE_RATE: RateOptions = { perSecond: 2, burst: 20 };

/** The ledger note holding a node's last status or state (note names are at most 64 characters; 192 bits of the key tell nodes apart). */
function noteName(kind: 'status' | 'state', node: string): string {
  return `${kind}.${node.slice(0, 48)}`;
}

export interface NodeLiveness {
  key: string;
  name: string;
  role: NodeValue['role'];
  resources: string[];
  retired: boolean;
  online: boolean;
  /** When the coordinator last heard from it (its clock, ms; null: never). */
  lastSeen: number | null;
  status: NodeStatus | null;
  state: NodeState | null;
}

interface Kept { status: NodeStatus | null; state: NodeState | null; seen: number | null }

export class NodeRegistry {
  private readonly t: ReturnType<typeof topics>;
  private readonly kept = new Map<string, Kept>();
  private readonly handlers: Array<[string, (m: BusMessage) => void]> = [];
  private readonly rates = new Map<string, TokenBucket>();

  constructor(
    private readonly ledger: Ledger,
    private readonly bus: Bus,
    private readonly o: { now?: () => number; onInvalid?: (reason: string, topic: string) => void } = {},
  ) {
    this.t = topics(ledger.site);
    const ahead = <T extends { at: number }>(m: T | null): T | null => (m && m.at > this.now() + MAX_AHEAD_MS ? null : m);
    for (const n of ledger.nodes()) {
      const status = ahead(this.load(noteName('status', n.node), NodeStatus));
      const state = ahead(this.load(noteName('state', n.node), NodeState));
      if (status || state) this.kept.set(n.node, { status, state, seen: null });
    }
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  private load<T>(name: string, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }): T | null {
    const text = this.ledger.note(name);
    if (!text) return null;
    try {
      const r = schema.safeParse(JSON.parse(text));
      return r.success ? r.data : null;
    } catch {
      return null;
    }
  }

  async start(): Promise<void> {
    const on = (filter: string, h: (m: BusMessage, node: string, enrolled: NodeValue) => void) => this.handlers.push([filter, (m) => this.guard(m, h)]);
    on(`${this.t.root}/node/+/status`, (m, node) => this.onStatus(m, node));
    on(`${this.t.root}/node/+/state`, (m, node, enrolled) => this.onState(m, node, enrolled));
    for (const [f, h] of this.handlers) await this.bus.subscribe(f, h);
  }

  async stop(): Promise<void> {
    for (const [f, h] of this.handlers.splice(0)) await this.bus.unsubscribe(f, h).catch(() => undefined);
  }

  /** Publishes every kept status and state, retained (the coordinator's start). */
  async republish(): Promise<number> {
    let n = 0;
    for (const [node, k] of this.kept) {
      if (k.status) (await this.bus.publish(this.t.status(node), Buffer.from(JSON.stringify(k.status)), { qos: 1, retain: true }), n++);
      if (k.state) (await this.bus.publish(this.t.state(node), Buffer.from(JSON.stringify(k.state)), { qos: 1, retain: true }), n++);
    }
    return n;
  }

  /** Every enrolled node with what is known of it. */
  list(): NodeLiveness[] {
    const now = this.now();
    return this.ledger.nodes().map((n) => {
      const k = this.kept.get(n.node);
      const seen = k?.seen ?? null;
      const online = !n.retired && !!k?.status?.online && seen !== null && now - seen < STATUS_STALE_MS;
      return { key: n.node, name: n.name, role: n.role, resources: [...n.resources], retired: n.retired, online, lastSeen: seen ?? k?.status?.at ?? null, status: k?.status ?? null, state: k?.state ?? null };
    });
  }

  get(node: string): NodeLiveness | undefined {
    return this.list().find((n) => n.key === node);
  }

  private guard(m: BusMessage, h: (m: BusMessage, node: string, enrolled: NodeValue) => void): void {
    const node = m.topic.split('/').at(-2) ?? '';
    if (m.payload.byteLength > MAX_MESSAGE_BYTES) return this.o.onInvalid?.(`${m.payload.byteLength} bytes is more than a node message may be (${MAX_MESSAGE_BYTES})`, m.topic);
    const enrolled = this.ledger.nodes().find((n) => n.node === node);
    if (!enrolled) return this.o.onInvalid?.('not from an enrolled node', m.topic);
    try {
      h(m, node, enrolled);
    } catch (err) {
      this.o.onInvalid?.(`could not be handled: ${(err as Error).message}`, m.topic);
    }
  }

  /** The costly messages (a signature check, a SQLite write) a node may send: NODE_MESSAGE_RATE. */
  private allowed(m: BusMessage, node: string): boolean {
    const kind = m.topic.slice(m.topic.lastIndexOf('/') + 1);
    let bucket = this.rates.get(`${kind}/${node}`);
    if (!bucket) this.rates.set(`${kind}/${node}`, (bucket = new TokenBucket(NODE_MESSAGE_RATE, this.now())));
    if (bucket.take(this.now())) return true;
    this.o.onInvalid?.(`over ${NODE_MESSAGE_RATE.perSecond} ${kind} messages a second from this node: dropped`, m.topic);
    return false;
  }

  private parse(m: BusMessage): unknown {
    try {
      return JSON.parse(Buffer.from(m.payload).toString('utf8'));
    } catch {
      return undefined;
    }
  }

  private entry(node: string): Kept {
    let k = this.kept.get(node);
    if (!k) this.kept.set(node, (k = { status: null, state: null, seen: null }));
    return k;
  }

  private onStatus(m: BusMessage, node: string): void {
    const r = NodeStatus.safeParse(this.parse(m));
    if (!r.success || r.data.node !== node) return this.o.onInvalid?.('not a node status of the node its topic names', m.topic);
    const s = r.data;
    const k = this.entry(node);
    if (!s.online && s.sig === undefined) {
      // The Last Will: unsigned by design, so it can only say "offline". Never rate-limited:
      // it costs nothing, and a node whose Will was dropped would stay online on the dashboard.
      if (k.status) k.status = { ...k.status, online: false };
      k.seen = null;
      return;
    }
    if (!this.allowed(m, node)) return;
    if (!signedBy(s, node, this.ledger.crypto)) return this.o.onInvalid?.('status signature does not verify', m.topic);
    if (s.at > this.now() + MAX_AHEAD_MS) return this.o.onInvalid?.(`status dated ${s.at - this.now()} ms ahead of this clock`, m.topic);
    // A retained copy may be older than what SQLite holds; a live one is news even if the node's clock went back.
    if (m.retain && k.status && k.status.at > s.at) return;
    k.status = s;
    k.seen = m.retain ? k.seen : this.now();
    this.ledger.note(noteName('status', node), JSON.stringify(s));
  }

  private onState(m: BusMessage, node: string, enrolled: NodeValue): void {
    const r = NodeState.safeParse(this.parse(m));
    if (!r.success || r.data.node !== node) return this.o.onInvalid?.('not a node state of the node its topic names', m.topic);
    // A state is unsigned (the broker's ACL says who published it): it may speak only of the node's own resources.
    if (!enrolled.resources.includes(r.data.resource)) return this.o.onInvalid?.(`state of resource ${r.data.resource}, which this node does not control`, m.topic);
    if (r.data.at > this.now() + MAX_AHEAD_MS) return this.o.onInvalid?.(`state dated ${r.data.at - this.now()} ms ahead of this clock`, m.topic);
    if (!this.allowed(m, node)) return;
    const k = this.entry(node);
    if (m.retain && k.state && k.state.at > r.data.at) return;
    k.state = r.data;
    this.ledger.note(noteName('state', node), JSON.stringify(r.data));
  }
}


