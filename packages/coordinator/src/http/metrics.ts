/**
 * The coordinator's Prometheus metrics (`GET /metrics`), in a registry of its own (never
 * prom-client's global one: two coordinators in one process, as tests run them, must not
 * share counters). Counters move when the lead's hooks call `onIngest` / `onInvalid` (and on
 * the API's refusals); gauges are read when scraped, from the ledger and from what `attach`
 * gave (the sync, the broker's client count, the node registry: buildApi attaches them).
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { IngestResult, Ledger, PubSubSync } from '@keymesh/ledger';
import type { NodeRegistry } from '../node-registry.js';

export interface MetricsSources {
  sync?: PubSubSync | undefined;
  /** This coordinator's key (its own feed is not lag). */
  coordinator?: string | undefined;
  brokerClients?: (() => number | null) | undefined;
  registry?: NodeRegistry | undefined;
}

export interface CoordinatorMetricsOptions {
  /** Process metrics (CPU, memory, event loop, GC); default true. */
  defaultMetrics?: boolean;
  now?: () => number;
}

/** Where an ingest came from: the bus (sync) or the API (POST /api/entries). A label: keep it bounded. */
export type IngestSource = 'bus' | 'api';

const SYNC_COUNTERS = ['accepted', 'haves', 'batchesSent', 'wantsAnswered', 'misaddressed', 'invalid', 'publishFailed'] as const;

/** The kind of message a dropped payload was, from its topic: a bounded label, unlike the reason's text. */
export function invalidKind(topic: string | undefined): string {
  const parts = (topic ?? '').split('/');
  const at = parts.findIndex((p) => ['feed', 'head', 'sync', 'node', 'cmd', 'blob'].includes(p));
  if (at < 0) return topic === 'sync' ? 'INVALID_SYNC' : 'INVALID_MESSAGE';
  // sync/<from>/have, sync/<from>/want/<to>, node/<key>/status: the kind is two levels down.
  const kind = parts[at] === 'sync' || parts[at] === 'node' ? (parts[at + 2] ?? parts[at]!) : parts[at]!;
  return /^[a-z]{1,8}$/.test(kind) ? `INVALID_${kind.toUpperCase()}` : 'INVALID_MESSAGE';
}

export class CoordinatorMetrics {
  readonly registry = new Registry();
  private readonly ingested: Counter<'source'>;
  private readonly rejects: Counter<'reason'>;
  private src: MetricsSources = {};
  private readonly now: () => number;

  constructor(private readonly ledger: Ledger, o: CoordinatorMetricsOptions = {}) {
    this.now = o.now ?? Date.now;
    const registers = [this.registry];
    this.ingested = new Counter({ name: 'keymesh_ingest_entries_total', help: 'Entries accepted into the ledger, by where they came from (bus, api)', labelNames: ['source'], registers });
    this.rejects = new Counter({ name: 'keymesh_rejects_total', help: 'Entries, messages and requests refused, by reason code', labelNames: ['reason'], registers });
    const self = this;
    new Gauge({
      name: 'keymesh_node_lag_entries',
      help: "Entries of each node's feed the coordinator does not hold yet (from the node's signed status, else the heads it announced)",
      labelNames: ['node'],
      registers,
      collect() {
        this.reset();
        for (const [node, lag] of Object.entries(self.nodeLag())) this.set({ node }, lag);
      },
    });
    new Gauge({
      name: 'keymesh_connected_clients',
      help: 'MQTT clients connected to the embedded broker (absent with an external broker)',
      registers,
      collect() {
        this.reset();
        const n = self.src.brokerClients?.() ?? null;
        if (n !== null) this.set(n);
      },
    });
    new Gauge({
      name: 'keymesh_rules_age_seconds',
      help: "Age of each node's rules: since it last confirmed holding every rule entry its coordinator holds (from its signed status)",
      labelNames: ['node'],
      registers,
      collect() {
        this.reset();
        for (const [node, age] of Object.entries(self.rulesAge())) this.set({ node }, age);
      },
    });
    new Gauge({
      name: 'keymesh_quarantined_entries', help: 'Refused entries kept in the quarantine', registers,
      collect() {
        const q = self.ledger.alarms().find((a) => a.kind === 'quarantine');
        this.set(q ? Number(q.detail.count) : 0);
      },
    });
    new Gauge({
      name: 'keymesh_sync_events', help: "The sync's counters since start (PubSubSync.counters)", labelNames: ['counter'], registers,
      collect() {
        this.reset();
        const c = self.src.sync?.counters;
        if (c) for (const k of SYNC_COUNTERS) this.set({ counter: k }, c[k]);
      },
    });
    if (o.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The sources of the gauges that are not the ledger (buildApi passes its deps'). */
  attach(src: MetricsSources): void {
    this.src = { ...this.src, ...src };
  }

  /** The lead's ingest hook (PubSubSync `onIngest`), and the API's accepted entries. */
  onIngest(result: IngestResult, source: IngestSource = 'bus'): void {
    if (result.accepted > 0) this.ingested.inc({ source }, result.accepted);
    for (const r of result.rejected) this.rejects.inc({ reason: r.code });
  }

  /** The lead's hook for payloads the sync dropped (PubSubSync `onInvalid`): counted by the kind of message. */
  onInvalid(_reason: string, topic?: string): void {
    this.rejects.inc({ reason: invalidKind(topic) });
  }

  /** A refusal with a code of a bounded table (the ledger's submit refusals, command refusals). */
  onRefused(code: string): void {
    this.rejects.inc({ reason: /^[A-Z_]{1,40}$/.test(code) ? code : 'OTHER' });
  }

  /**
   * Per enrolled node (not this coordinator): its head as its signed status says, less what the
   * ledger holds of its feed; without a status, what the ledger's record of the heads it
   * announced says is missing (syncLag: every feed it named, unsigned).
   */
  nodeLag(): Record<string, number> {
    const heads = this.ledger.heads();
    const claims = this.ledger.syncLag();
    const out: Record<string, number> = {};
    for (const n of this.ledger.nodes()) {
      if (n.retired || n.node === this.src.coordinator) continue;
      const status = this.src.registry?.get(n.node)?.status;
      out[n.node] = status ? Math.max(0, status.head - (heads[n.node] ?? 0)) : claims[n.node] ?? 0;
    }
    return out;
  }

  /** Per node with a signed status that reports one: rules age in seconds now (see rulesAgeS). */
  rulesAge(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const n of this.src.registry?.list() ?? []) {
      const age = rulesAgeS(n.status, n.lastSeen, this.now());
      if (!n.retired && age !== null) out[n.key] = age;
    }
    return out;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * A node's rules age now, in seconds: the age its status reported plus the time since that
 * status was heard. Null: it never confirmed its rules fresh, or no status was heard.
 */
export function rulesAgeS(status: { rulesAgeMs: number | null } | null, heardAt: number | null, now: number): number | null {
  if (!status || status.rulesAgeMs === null) return null;
  return Math.round((status.rulesAgeMs + Math.max(0, now - (heardAt ?? now))) / 1000);
}
