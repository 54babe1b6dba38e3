/**
 * Blob manifests: the format is the protocol's (@keymesh/protocol blob-manifest.ts: schema,
 * canonical encoding, identity, diff), shared with the browser; the store reports a bad one
 * with its own error, BLOB_BAD_MANIFEST.
 */
import { checkManifest, manifestDiff, type Manifest } from '@keymesh/protocol';
import { BlobError } from './errors.js';

export {
  CHUNK_LIMITS, ChunkRefSchema, ChunkingParamsSchema, EMPTY_SHA256, MANIFEST_VERSION, ManifestSchema, encodeManifest, manifestId, uniqueChunks,
  type ChunkRef, type ChunkingParams, type Manifest, type ManifestDiff,
} from '@keymesh/protocol';

/** What moving from `prev` (null: nothing) to `next` ships (the protocol's manifestDiff). */
export const diff = manifestDiff;

/**
 * Validates a manifest (an object, or its JSON text) and returns it typed. Throws
 * BLOB_BAD_MANIFEST listing what is wrong, field by field.
 */
export function parseManifest(input: unknown): Manifest {
  const r = checkManifest(input);
  if (r.ok) return r.manifest;
  if (r.notJson) {
    throw new BlobError('BLOB_BAD_MANIFEST', `${r.problem}; send the manifest as JSON produced by encodeManifest().`);
  }
  throw new BlobError('BLOB_BAD_MANIFEST',
    `${r.problem}. Manifests are { v: 1, size, hash, chunks: [{ hash, size }], params: { min, avg, max, level } } ` +
    'as made by BlobStore.put(); if it came from a peer, fetch it again or from another node.',
    { issues: r.issues });
}
