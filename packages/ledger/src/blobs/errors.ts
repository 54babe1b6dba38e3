/** Blob store error codes and their meaning; messages add the specifics and the fix. */
import { defineErrors, type ErrorOf } from '@keymesh/protocol';

export const BlobError = defineErrors('BlobError', {
  BLOB_BAD_MANIFEST: 'the manifest is invalid',
  BLOB_BAD_INPUT: 'the input is not usable',
  BLOB_CHUNK_CORRUPT: 'a stored chunk is damaged',
  BLOB_CHUNK_MISMATCH: 'a received chunk does not match its hash',
  BLOB_MISSING_CHUNKS: 'chunks of the blob are not in this store',
  BLOB_HASH_MISMATCH: "the blob does not match its manifest's hash",
  BLOB_SCHEMA_TOO_NEW: 'the blob tables were written by a newer Keymesh',
  BLOB_CLOSED: 'the blob store is closed',
  BLOB_HASHER_FAILED: "put()'s hashing thread failed",
});
export type BlobError = ErrorOf<typeof BlobError>;
