/**
 * The bundles each node reports it holds (ledger blobs/transfer/held.ts: a signed `held`
 * message on `blob/<node>/held`, retained). The coordinator keeps each node's newest report in
 * a table of its blob store's database (blobs.db), so `keymesh bundle status` reads it whether
 * or not a server runs, and a restart forgets nothing. A report is checked (shape, the topic's
 * node, signature, an enrolled node) before it is kept, and checked again when read.
 */
import { Buffer } from 'node:buffer';
import { existsSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { BlobStore, checkHeldReport, type Bus, type BusMessage } from '@keymesh/ledger';
import { topics, type BlobHeldMessage } from '@keymesh/protocol';

const TABLE = `CREATE TABLE IF NOT EXISTS bundle_held (
  node TEXT PRIMARY KEY,
  at INTEGER NOT NULL,
  report TEXT NOT NULL
)`;

export interface HeldAttachOptions {
  /** Whether `node` is an enrolled, unretired node (reports of anyone else are refused). */
  isNode: (node: string) => boolean;
  /** Told of each refused report (a log line with the reason). */
  onRefused?: (topic: string, reason: string) => void;
}

export class HeldReports {
  private readonly upsert: Database.Statement<[string, number, string]>;

  /** `db`: the blob store's database (BlobStore.db), where the table is made if missing. */
  constructor(private readonly db: Database.Database, private readonly site: string) {
    db.exec(TABLE);
    this.upsert = db.prepare<[string, number, string]>('INSERT INTO bundle_held (node, at, report) VALUES (?, ?, ?) ON CONFLICT (node) DO UPDATE SET at = excluded.at, report = excluded.report WHERE excluded.at > bundle_held.at');
  }

  /** Checks and keeps one report; an older one than the node's last changes nothing. */
  record(topic: string, payload: Uint8Array, isNode: (node: string) => boolean): { ok: true; report: BlobHeldMessage } | { ok: false; reason: string } {
    const r = checkHeldReport(this.site, topic, payload);
    if (!r.ok) return r;
    if (!isNode(r.report.node)) return { ok: false, reason: `${r.report.node.slice(0, 12)}… is not an enrolled node` };
    this.upsert.run(r.report.node, r.report.at, JSON.stringify(r.report));
    return r;
  }

  /** Subscribes to every node's report; resolves with the function that unsubscribes. */
  async attach(bus: Bus, o: HeldAttachOptions): Promise<() => Promise<void>> {
    const filter = topics(this.site).blobFilters.held;
    const handler = (m: BusMessage): void => {
      const r = this.record(m.topic, m.payload, o.isNode);
      if (!r.ok) o.onRefused?.(m.topic, r.reason);
    };
    await bus.subscribe(filter, handler);
    return () => bus.unsubscribe(filter, handler);
  }

  all(): BlobHeldMessage[] {
    return readReports(this.db, this.site);
  }
}

/** Every node's newest report in `db`, each checked again (a row altered on disk is left out). */
export function readReports(db: Database.Database, site: string): BlobHeldMessage[] {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'bundle_held'").get();
  if (!exists) return [];
  const t = topics(site);
  const out: BlobHeldMessage[] = [];
  for (const row of db.prepare('SELECT node, report FROM bundle_held ORDER BY node').all() as Array<{ node: string; report: string }>) {
    const r = checkHeldReport(site, t.blobHeld(row.node), Buffer.from(row.report));
    if (r.ok) out.push(r.report);
  }
  return out;
}

/**
 * The reports kept in the blob store file at `path` (none when it does not exist). Opened as a
 * BlobStore (SQLite WAL: a running server may hold it open too).
 */
export function readReportsFile(path: string, site: string): BlobHeldMessage[] {
  if (!existsSync(path)) return [];
  const store = BlobStore.open(path);
  try {
    return readReports(store.db, site);
  } finally {
    store.close();
  }
}
