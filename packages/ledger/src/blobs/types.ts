/** The blob store's public option and result shapes. */
import type { ImplName } from '@keymesh/cdc-native';
import type { ChunkingParams, Manifest } from './manifest.js';

export interface BlobStoreOptions {
  /** FastCDC parameters for put(); default DESIGN §8: min/avg/max 16/64/256 KiB, level 1. */
  chunking?: Partial<ChunkingParams>;
  /**
   * fsync policy when the store opens the database itself (a path): 'full' (default; each
   * commit is on disk when put() returns) or 'normal' (WAL stays consistent, the last commits
   * may be lost on power loss). A Database passed in keeps the pragmas its owner set.
   */
  synchronous?: 'full' | 'normal';
  /** New chunk bytes put() buffers before one write transaction; default 4 MiB. */
  batchBytes?: number;
  /** Chunker implementation ('native' | 'ts'); default: whichever @keymesh/cdc-native picked. */
  impl?: ImplName;
}

export interface PutOptions {
  /** Pin the manifest so gc keeps the blob (default true). */
  pin?: boolean;
}

export interface PinnedManifest {
  id: string;
  manifest: Manifest;
  pinnedAt: number;
}

export interface BlobStats {
  /** Distinct chunks stored, and their bytes. */
  chunks: number;
  bytes: number;
  /** Pinned manifests, and the sum of their blob sizes (before dedup). */
  manifests: number;
  manifestBytes: number;
}

export interface GcOptions {
  /** Manifests to keep besides the pinned ones (e.g. ones the caller holds but did not pin). */
  keep?: Manifest[];
}

export interface GcResult {
  removedChunks: number;
  removedBytes: number;
}

export interface VerifyResult {
  checked: number;
  /** Hashes of chunks whose bytes no longer match their hash. */
  corrupt: string[];
  /** Whether they were deleted (verify({ drop: true })), so missing() lists them for a re-fetch. */
  dropped: boolean;
}
