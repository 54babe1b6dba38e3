/** Blob store error codes and their meaning; messages add the specifics and the fix. */
import { KeymeshError } from '@keymesh/protocol';

export const BLOB_ERRORS = {
  BLOB_BAD_MANIFEST: 'the manifest is invalid',
  BLOB_BAD_INPUT: 'the input is not usable',
  BLOB_CHUNK_CORRUPT: 'a stored chunk is damaged',
  BLOB_CHUNK_MISMATCH: 'a received chunk does not match its hash',
  BLOB_MISSING_CHUNKS: 'chunks of the blob are not in this store',
  BLOB_HASH_MISMATCH: "the blob does not match its manifest's hash",
  BLOB_SCHEMA_TOO_NEW: 'the blob tables were written by a newer Keymesh',
  BLOB_CLOSED: 'the blob store is closed',
  BLOB_HASHER_FAILED: "put()'s hashing thread failed",
} as const;

export type BlobErrorCode = keyof typeof BLOB_ERRORS;

export class BlobError extends KeymeshError<BlobErrorCode> {
  constructor(code: BlobErrorCode, detail: string, details?: Record<string, unknown>) {
    super(code, `${BLOB_ERRORS[code]}: ${detail}`, details);
    this.name = 'BlobError';
  }
}
