/**
 * Which node holds which bundle version: the published bundles (the `bundle/<manifest>`
 * registers of the ledger's policy) against what each node last reported it holds
 * (held-reports.ts). A target with no report is "unknown", never "missing": silence is not
 * evidence.
 */
import type { BlobHeldMessage, BundleValue, NodeValue } from '@keymesh/protocol';

/** What bundleStatus reads of a ledger (Ledger has these). */
export interface BundleLedgerView {
  policy: { keys(prefix: string): string[]; bundle(manifest: string): BundleValue | undefined };
  nodes(): NodeValue[];
}

export interface BundleTargetRow {
  node: string;
  name: string;
  /** true: its latest report names the bundle; false: its report does not; null: no report yet. */
  holds: boolean | null;
}

export interface BundleRow {
  manifest: string;
  version: string;
  size: number;
  targets: 'all' | string[];
  /** Each target node (for 'all': every enrolled edge node) and whether it holds the bundle. */
  nodes: BundleTargetRow[];
  held: number;
}

export interface NodeBundlesRow {
  node: string;
  name: string;
  role: string;
  /** When its latest report was signed (null: never reported). */
  reportedAt: number | null;
  holds: Array<{ manifest: string; version: string }>;
}

export interface BundleStatus {
  bundles: BundleRow[];
  nodes: NodeBundlesRow[];
}

export function bundleStatus(ledger: BundleLedgerView, reports: readonly BlobHeldMessage[]): BundleStatus {
  const live = ledger.nodes().filter((n) => !n.retired);
  const byKey = new Map(live.map((n) => [n.node, n]));
  const report = new Map(reports.map((r) => [r.node, r]));
  const bundles: BundleRow[] = [];
  for (const key of ledger.policy.keys('bundle/')) {
    const b = ledger.policy.bundle(key.slice('bundle/'.length));
    if (!b) continue;
    const targets = b.targets === 'all' ? live.filter((n) => n.role === 'edge').map((n) => n.node) : b.targets;
    const nodes = targets.map((k): BundleTargetRow => {
      const r = report.get(k);
      return { node: k, name: byKey.get(k)?.name ?? '(not enrolled)', holds: r ? r.bundles.some((x) => x.manifest === b.manifest) : null };
    });
    bundles.push({ manifest: b.manifest, version: b.version, size: b.size, targets: b.targets, nodes, held: nodes.filter((n) => n.holds === true).length });
  }
  bundles.sort((a, b) => (a.version < b.version ? 1 : a.version > b.version ? -1 : a.manifest < b.manifest ? -1 : 1));
  const nodes = live.filter((n) => n.role === 'edge').map((n): NodeBundlesRow => {
    const r = report.get(n.node);
    return { node: n.node, name: n.name, role: n.role, reportedAt: r?.at ?? null, holds: r ? r.bundles.map((x) => ({ manifest: x.manifest, version: x.version })) : [] };
  });
  return { bundles, nodes };
}

const mib = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${Math.max(1, Math.round(n / 1024))} KiB`);

export function formatBundleStatus(s: BundleStatus, source: string): string {
  const lines = [`Bundles published (${s.bundles.length}), from ${source}:`];
  if (s.bundles.length === 0) lines.push('  none yet: keymesh bundle publish FILE --version V');
  for (const b of s.bundles) {
    const who = b.targets === 'all' ? 'all nodes' : `${b.targets.length} node${b.targets.length === 1 ? '' : 's'}`;
    lines.push(`  ${b.version}  ${b.manifest.slice(0, 12)}…  ${mib(b.size)}  to ${who}: held by ${b.held} of ${b.nodes.length}`);
    for (const n of b.nodes) lines.push(`      ${n.holds === true ? 'holds  ' : n.holds === false ? 'lacks  ' : 'unknown'}  ${n.name} (${n.node.slice(0, 12)}…)${n.holds === null ? ': no report yet' : ''}`);
  }
  lines.push('Nodes:');
  for (const n of s.nodes) {
    const held = n.holds.length ? n.holds.map((h) => h.version).join(', ') : n.reportedAt === null ? '(no report yet)' : '(none)';
    lines.push(`  ${n.name} (${n.node.slice(0, 12)}…, ${n.role})  holds ${held}${n.reportedAt === null ? '' : `  reported ${new Date(n.reportedAt).toISOString()}`}`);
  }
  return lines.join('\n') + '\n';
}
