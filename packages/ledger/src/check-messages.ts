/** The messages between IngestPool (ingest-pool.ts) and its worker (check-worker.ts). */
import type { RejectCode } from './errors.js';

/** A batch of lines to check; `id` pairs the reply with it. */
export interface CheckRequest {
  id: number;
  lines: string[];
}

export interface CheckReply {
  id: number;
  /** 32 bytes per line: the hash of each line that passed (zeros where it did not). */
  hashes: Uint8Array;
  errors: Array<{ i: number; code: RejectCode; reason: string; author: string | null; seq: number | null }>;
  /** Lines whose entry this release does not understand (held for a newer version). */
  unknown: number[];
}
