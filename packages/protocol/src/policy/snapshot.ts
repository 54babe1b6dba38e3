/**
 * The whole materialised state as one canonical object, and its digest: two replicas with the
 * same digest agree on every value, conflict, fork that matters and counted access event.
 */
import { canonicalBytes, canonicalString } from '../canonical.js';
import { toHex } from '../bytes.js';
import type { CryptoProvider } from '../crypto/index.js';
import type { Head } from './values.js';

/** What the snapshot reads of a policy state. */
export interface SnapshotSource {
  readonly site: string;
  readonly crypto: CryptoProvider;
  keys(prefix?: string): string[];
  heads(key: string): Head[];
  valueOf(key: string): unknown;
  forks(): Array<{ author: string; seq: number; hashes: string[]; resolved: boolean }>;
  events(): Array<{ hash: string }>;
}

/** Registers with several heads whose bodies differ: shown to admins until resolved. */
export function conflictsOf(s: SnapshotSource): Array<{ key: string; heads: string[] }> {
  const out: Array<{ key: string; heads: string[] }> = [];
  for (const key of s.keys()) {
    const heads = s.heads(key);
    if (heads.length < 2) continue;
    const bodies = new Set(heads.map((h) => `${h.entry.type}:${canonicalString(h.entry.body)}`));
    if (bodies.size > 1) out.push({ key, heads: heads.map((h) => h.hash) });
  }
  return out;
}

export function snapshotOf(s: SnapshotSource): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const key of s.keys()) {
    const v = s.valueOf(key);
    if (v !== undefined) values[key] = v;
  }
  const events = s.events().map((e) => e.hash);
  return {
    site: s.site,
    values,
    conflicts: conflictsOf(s),
    // Forks that still matter: one by a key without authority at that seq changes nothing,
    // and a replica that keeps such a key's entries apart (a store does) must agree.
    forks: s.forks().filter((f) => !f.resolved),
    events: { count: events.length, digest: toHex(s.crypto.sha256(canonicalBytes(events))) },
  };
}

export function digestOf(s: SnapshotSource): string {
  return toHex(s.crypto.sha256(canonicalBytes(snapshotOf(s))));
}
