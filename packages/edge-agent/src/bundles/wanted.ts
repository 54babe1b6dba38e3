/**
 * Which published bundles this node should hold (DESIGN §8), read from the replica's policy:
 * a `bundle/<manifest>` register exists only for a `bundle.publish` the ledger accepted (an
 * admin's signature, checked when the entry was stored), so nothing here trusts a message.
 * Concurrent publications of one manifest target this node only if every one does (the
 * protocol's mergeBundle). Newest version first.
 */
import type { BundleValue, NodeValue } from '@keymesh/protocol';

/** What EdgeBundles reads of a ledger (Ledger has these). */
export interface BundleLedgerView {
  policy: { keys(prefix: string): string[]; bundle(manifest: string): BundleValue | undefined };
  nodes(): NodeValue[];
  /** The node's time (the later of its clock and the newest verified coordinator time). */
  now(): number;
}

export function bundlesFor(ledger: BundleLedgerView, self: string): BundleValue[] {
  const out: BundleValue[] = [];
  for (const key of ledger.policy.keys('bundle/')) {
    const b = ledger.policy.bundle(key.slice('bundle/'.length));
    if (b && (b.targets === 'all' || b.targets.includes(self))) out.push(b);
  }
  return out.sort((a, b) => compareVersions(b.version, a.version) || (a.manifest < b.manifest ? -1 : 1));
}

/** The enrolled, unretired coordinators: where bundles are fetched from. */
export function bundleSources(ledger: BundleLedgerView): string[] {
  return ledger.nodes().filter((n) => n.role === 'coordinator' && !n.retired).map((n) => n.node).sort();
}

/** Dotted versions compared part by part, numbers as numbers (1.10.0 after 1.9.2). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/);
  const pb = b.split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    const c = !Number.isNaN(nx) && !Number.isNaN(ny) ? nx - ny : x < y ? -1 : x > y ? 1 : 0;
    if (c !== 0) return Math.sign(c);
  }
  return 0;
}
