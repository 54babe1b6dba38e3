/**
 * `keymesh status`: the server's `GET /api/status` report when one runs; otherwise what the
 * ledger file alone can tell (read-only): the enrolled nodes, conflicts, forks, quarantine and
 * held entries. Whether nodes are online, their rules' age and lag are heard live by the
 * server; without it those are unknown (null) and the report says so.
 */
import { Ledger } from '@keymesh/ledger';
import type { NodeStatusRow, StatusReport } from '../http/routes/status.js';

export type { StatusReport, NodeStatusRow };

export function ledgerStatus(path: string, site: string, name: string, now = Date.now()): StatusReport {
  const ledger = Ledger.open(path, { site, readonly: true });
  try {
    const nodes = ledger.nodes().filter((n) => !n.retired).map((n): NodeStatusRow => ({
      key: n.node, name: n.name, role: n.role, resources: n.resources, online: null, lastSeen: null, rulesAgeS: null, ackedLag: null, heldForNewerVersion: null,
    }));
    const q = ledger.alarms().find((a) => a.kind === 'quarantine');
    return {
      site, name, now, nodes, conflicts: ledger.conflicts().length, forks: ledger.forks().length,
      quarantine: q ? Number(q.detail.count) : 0, held: ledger.heldForNewerVersion(),
    };
  } finally {
    ledger.close();
  }
}

function age(s: number | null): string {
  if (s === null) return '?';
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return s < 172_800 ? `${Math.round(s / 3600)} h` : `${Math.round(s / 86_400)} d`;
}

export function formatStatus(r: StatusReport, source: string, live: boolean): string {
  const lines = [`Site "${r.name}" (${r.site.slice(0, 16)}…), from ${source}${live ? '' : ' (no server runs: live data needs `keymesh serve`)'}`];
  const online = r.nodes.filter((n) => n.online === true).length;
  lines.push(live ? `Nodes: ${r.nodes.length} enrolled, ${online} online` : `Nodes: ${r.nodes.length} enrolled (online, rules age and lag unknown without the server)`);
  const w = Math.max(4, ...r.nodes.map((n) => n.name.length));
  for (const n of r.nodes) {
    const state = n.online === null ? '?' : n.online ? 'online' : 'offline';
    const extra = live ? `  rules ${age(n.rulesAgeS)} old  lag ${n.ackedLag ?? '?'}${n.heldForNewerVersion ? `  held ${n.heldForNewerVersion}` : ''}` : '';
    lines.push(`  ${n.name.padEnd(w)}  ${n.role.padEnd(11)} ${state.padEnd(7)} ${n.key.slice(0, 16)}…  ${n.resources.join(',') || '-'}${extra}`);
  }
  lines.push(`Conflicts: ${r.conflicts}   Forks: ${r.forks}   Quarantine: ${r.quarantine}   Held for a newer version: ${r.held}`);
  if (r.conflicts || r.forks) lines.push('Resolve conflicts with a new entry naming every head (e.g. `keymesh member update`); forks need an admin to replace or remove the key.');
  return lines.join('\n') + '\n';
}
