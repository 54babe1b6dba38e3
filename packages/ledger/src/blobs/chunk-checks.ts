/** Checks on chunk hashes and stored chunk bytes, and the errors that name what failed. */
import { createHash } from 'node:crypto';
import { BlobError } from './errors.js';
import type { ChunkRef, Manifest } from './manifest.js';
import type { ChunkRow } from './tables.js';

const HEX64 = /^[0-9a-f]{64}$/;
const MISSING_LISTED = 3;

export const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

/** A chunk hash given by a caller, as the key it is stored under. */
export function hashKey(hash: string, what: string): Buffer {
  if (typeof hash !== 'string' || !HEX64.test(hash)) {
    throw new BlobError('BLOB_BAD_INPUT',
      `${what} must be a SHA-256 as 64 lower-case hex digits, got ${JSON.stringify(String(hash)).slice(0, 80)}.`);
  }
  return Buffer.from(hash, 'hex');
}

export function missingError(m: Manifest, absent: ChunkRef[]): BlobError {
  const bytes = absent.reduce((s, c) => s + c.size, 0);
  const listed = absent.slice(0, MISSING_LISTED).map((c) => c.hash.slice(0, 16)).join(', ');
  return new BlobError('BLOB_MISSING_CHUNKS',
    `${absent.length} of the ${m.chunks.length} chunks of blob ${m.hash.slice(0, 16)}… (${bytes} bytes) ` +
    `are absent (${listed}${absent.length > MISSING_LISTED ? ', …' : ''}); pin the manifest, fetch ` +
    'store.missing(manifest) from a peer with putChunk(), then read it again.',
    { blob: m.hash, missing: absent.map((c) => c.hash) });
}

export function corruptError(hash: string, detail: string, index?: number): BlobError {
  return new BlobError('BLOB_CHUNK_CORRUPT',
    `chunk ${hash}${index === undefined ? '' : ` (#${index} of the blob)`} ${detail}; the storage is ` +
    'damaged. Run store.verify({ drop: true }) to remove damaged chunks, then fetch ' +
    'store.missing(manifest) again from a peer.',
    { chunk: hash, ...(index === undefined ? {} : { index }) });
}

/** Bytes of a stored row, checked against the hash they are stored under. */
export function verifiedRow(row: ChunkRow, hash: string, expectedSize: number | undefined, index?: number): Buffer {
  const size = expectedSize ?? row.size;
  if (row.data.length !== size) {
    throw corruptError(hash, `holds ${row.data.length} bytes where ${size} were stored`, index);
  }
  const actual = sha256(row.data).toString('hex');
  if (actual !== hash) throw corruptError(hash, `now hashes to ${actual}`, index);
  return row.data;
}
