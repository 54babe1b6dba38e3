/**
 * A manifest is itself a blob (DESIGN §8): its identity is the SHA-256 of its canonical
 * encoding (protocol manifestId), so it is asked for by that hash like a chunk, and its bytes
 * are checked the same way. A node serves the manifests it has pinned: BlobStore keeps them
 * in `blob_manifests`, read here by id (the store has no lookup by id; this one query is the
 * only place the transfer reads its tables).
 */
import { Buffer } from 'node:buffer';
import type Database from 'better-sqlite3';
import { canonicalBytes, checkManifest, manifestId, type Manifest } from '@keymesh/protocol';
import type { BlobStore } from '../blob-store.js';

export class PinnedManifests {
  private readonly byId: Database.Statement<[string], string>;

  constructor(store: BlobStore) {
    this.byId = store.db.prepare<[string], string>('SELECT manifest FROM blob_manifests WHERE id = ?').pluck();
  }

  /** The canonical bytes of the pinned manifest `id`, or undefined if none is pinned. */
  bytes(id: string): Uint8Array | undefined {
    const json = this.byId.get(id);
    if (json === undefined) return undefined;
    const r = checkManifest(json);
    if (!r.ok) return undefined;
    const bytes = Buffer.from(canonicalBytes(r.manifest));
    return manifestId(r.manifest) === id ? bytes : undefined;
  }

  /** The pinned manifest `id`, parsed, or undefined. */
  get(id: string): Manifest | undefined {
    const json = this.byId.get(id);
    if (json === undefined) return undefined;
    const r = checkManifest(json);
    return r.ok && manifestId(r.manifest) === id ? r.manifest : undefined;
  }
}

/** The manifest whose id is `id` from received bytes, or a reason why they are not it. */
export function manifestFromBytes(id: string, bytes: Uint8Array): { ok: true; manifest: Manifest } | { ok: false; reason: string } {
  const r = checkManifest(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  if (!r.ok) return { ok: false, reason: r.problem };
  // The bytes hashed to `id` already; this also refuses a non-canonical encoding of a manifest.
  if (manifestId(r.manifest) !== id) return { ok: false, reason: 'the bytes are not the canonical encoding of the manifest they hold' };
  return { ok: true, manifest: r.manifest };
}
