/**
 * What a node reports of the bundles it holds (DESIGN §8 "reports what it holds"): a signed
 * `held` message (protocol blob-transfer.ts) on `blob/<node>/held`, QoS 1 and retained, so a
 * coordinator that starts later still learns it. A node publishes it after each completed fetch
 * (and at start), naming every bundle it holds whole and verified; the newest (by `at`) wins.
 * The signature is under the sync domain, like a status: the topic names a sender, only the
 * signature proves it.
 */
import { Buffer } from 'node:buffer';
import {
  BlobHeldMessage, PublicKeyHex, describeZodError, topics,
  type CryptoProvider, type HeldBundle, type KeyPair,
} from '@keymesh/protocol';
import type { Bus } from '../../bus/bus.js';
import { signSync, signedBy } from '../../sync/signed.js';

export function makeHeldReport(key: KeyPair, bundles: HeldBundle[], at: number, crypto?: CryptoProvider): BlobHeldMessage {
  return signSync({ kind: 'held' as const, node: key.publicKey, bundles, at }, key, crypto);
}

/** Publishes this node's held report (retained). */
export async function publishHeld(bus: Bus, site: string, key: KeyPair, bundles: HeldBundle[], at = Date.now()): Promise<BlobHeldMessage> {
  const msg = makeHeldReport(key, bundles, at);
  await bus.publish(topics(site).blobHeld(key.publicKey), Buffer.from(JSON.stringify(msg)), { qos: 1, retain: true });
  return msg;
}

export type HeldCheck = { ok: true; report: BlobHeldMessage } | { ok: false; reason: string };

/** Checks a held report received on `topic`: the shape, the node the topic names, its signature. Never throws. */
export function checkHeldReport(site: string, topic: string, payload: Uint8Array, maxBytes = 65_536): HeldCheck {
  const t = topics(site);
  const prefix = `${t.root}/blob/`;
  const node = topic.startsWith(prefix) && topic.endsWith('/held') ? topic.slice(prefix.length, -'/held'.length) : '';
  if (!PublicKeyHex.safeParse(node).success) return { ok: false, reason: `not a held topic: ${topic.slice(0, 200)}` };
  if (payload.byteLength > maxBytes) return { ok: false, reason: `${payload.byteLength} bytes; a held report has at most ${maxBytes}` };
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  const r = BlobHeldMessage.safeParse(raw);
  if (!r.success) return { ok: false, reason: describeZodError(r.error) };
  if (r.data.node !== node) return { ok: false, reason: `the report names ${r.data.node.slice(0, 12)}… but was published on ${node.slice(0, 12)}…'s topic` };
  if (!signedBy(r.data, node)) return { ok: false, reason: `the signature is not ${node.slice(0, 12)}…'s` };
  return { ok: true, report: r.data };
}
