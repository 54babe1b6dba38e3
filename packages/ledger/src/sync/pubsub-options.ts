/** The options of a `PubSubSync` (pubsub.ts) and the constants they default to. */
import type { CryptoProvider, KeyPair } from '@keymesh/protocol';
import type { Bus } from '../bus/bus.js';
import type { IngestResult } from '../types.js';
import type { PubSubStore } from './store.js';

export interface PubSubSyncOptions {
  bus: Bus;
  store: PubSubStore;
  site: string;
  /** This node's key: it signs haves and statuses, and names the node on the bus. */
  key: KeyPair;
  /** Replicas asked first and whose signed haves acknowledge this feed (an edge's coordinator). Default: none. */
  upstream?: readonly string[];
  /** Republish the heads of every feed held and relay submitted entries (a coordinator). */
  relay?: boolean;
  /** Period of haves, statuses and retries, ms (default 5,000; 0: only when `tick()` is called). */
  intervalMs?: number;
  /** Byte limit of one message (at least MIN_SYNC_MESSAGE_BYTES; default 128 KiB). */
  maxMessageBytes?: number;
  /** Longest synchronous slice of sending, ms (default 8). */
  sliceMs?: number;
  /**
   * Received entries stored per call, one transaction each (default INTAKE_CHUNK, 32: an edge's
   * slices stay short while it decides taps). A coordinator takes more: each call costs a
   * transaction, and a run's one signature check covers more entries.
   */
  storeChunk?: number;
  /** Batches in flight to one peer before sending pauses for the bus (default 8). */
  window?: number;
  /** A publish not acknowledged by then counts as failed and frees its place in the window (default 30,000 ms). */
  publishTimeoutMs?: number;
  versions?: Record<string, string>;
  onIngest?: (result: IngestResult, from: string) => void;
  /** Payloads dropped, with the reason (to log). */
  onInvalid?: (reason: string, topic: string) => void;
  crypto?: CryptoProvider;
  /** Take haves and wants from any key, not only keys with authority (bare replicas in tests; see peers.ts). */
  openPeers?: boolean;
}

export const DEFAULT_PUBSUB_MESSAGE_BYTES = 128 * 1024;
/** Feeds whose next live seq is remembered (the oldest is forgotten first: it then only costs a signature check). */
export const MAX_LIVE_FEEDS = 4096;
/**
 * A relay republishes the heads that advanced at most this often: every publish makes the
 * ledger durable first (an fsync), which after every live entry would cap ingest at the
 * disk's fsync rate. Retained heads are for nodes that reconnect; 50 ms late is on time.
 */
export const RELAY_HEADS_EVERY_MS = 50;
