/**
 * `GET /api/status`: what `keymesh status` prints. Per enrolled node: online, last seen, rules
 * age, acknowledged lag (its own head less what it says its coordinator acknowledged) and
 * entries held for a newer version, from its signed status (node-registry.ts); this
 * coordinator's own row from its sync. Then the site's conflicts, forks, quarantine and held.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../context.js';
import { NoQuery, parseInput } from '../input.js';
import { rulesAgeS } from '../metrics.js';

export interface NodeStatusRow {
  key: string;
  name: string;
  role: 'edge' | 'coordinator';
  resources: string[];
  /** null: no node registry to ask. */
  online: boolean | null;
  /** When its last signed status was heard (ms; null: never). */
  lastSeen: number | null;
  rulesAgeS: number | null;
  ackedLag: number | null;
  heldForNewerVersion: number | null;
}

export interface StatusReport {
  site: string;
  name: string;
  now: number;
  nodes: NodeStatusRow[];
  conflicts: number;
  forks: number;
  quarantine: number;
  /** Entries this coordinator holds for a newer version of Keymesh. */
  held: number;
}

export const statusRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const { deps } = ctx;
  app.get('/api/status', async (req): Promise<StatusReport> => {
    parseInput(NoQuery, req.query, 'query');
    const { ledger, registry } = deps;
    const now = ctx.now();
    const own = deps.sync.status();
    const heard = new Map((registry?.list() ?? []).map((n) => [n.key, n]));
    const nodes = ledger.nodes().filter((n) => !n.retired).map((n): NodeStatusRow => {
      const row = { key: n.node, name: n.name, role: n.role, resources: n.resources };
      if (n.node === deps.coordinator) {
        return { ...row, online: true, lastSeen: now, rulesAgeS: own.rulesAgeMs === null ? null : Math.round(own.rulesAgeMs / 1000), ackedLag: null, heldForNewerVersion: own.heldForNewerVersion };
      }
      const live = heard.get(n.node);
      const s = live?.status ?? null;
      return {
        ...row,
        online: registry ? !!live?.online : null,
        lastSeen: live?.lastSeen ?? null,
        rulesAgeS: rulesAgeS(s, live?.lastSeen ?? null, now),
        ackedLag: s && s.acked !== null ? Math.max(0, s.head - s.acked) : null,
        heldForNewerVersion: s ? s.heldForNewerVersion : null,
      };
    });
    const quarantine = ledger.alarms().find((a) => a.kind === 'quarantine');
    return {
      site: deps.site, name: deps.siteName, now, nodes,
      conflicts: ledger.conflicts().length, forks: ledger.forks().length,
      quarantine: quarantine ? Number(quarantine.detail.count) : 0, held: ledger.heldForNewerVersion(),
    };
  });
};
