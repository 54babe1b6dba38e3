/**
 * Fetches a blob from one source node over a Bus (DESIGN §8): the manifest first, by its id (a
 * manifest is itself a blob, manifest-bytes.ts), checked and pinned (so gc keeps a partial
 * transfer), then only the chunks the local store lacks, each checked against its SHA-256
 * before it is stored, and at the end the whole blob against the manifest.
 *
 * Requests go to `blob/<self>/get/<source>`; parts come back on `blob/<source>/put/<self>`. A
 * part is taken only from the node it was asked of, for a piece still outstanding; anything
 * else (another sender, bad header, wrong size, bytes that hash to something else) is dropped
 * and counted, and nothing of it is stored. At most `windowChunks` chunks (and `windowBytes`)
 * are outstanding, so the source's queue and this node's memory stay bounded. When nothing
 * arrives for `timeoutMs`, the outstanding pieces are asked again, up to `retries` times.
 */
import { BLOB_GET_MAX_HASHES, PublicKeyHex, topics, uniqueChunks, type Manifest } from '@keymesh/protocol';
import type { Bus, BusMessage } from '../../bus/bus.js';
import type { BlobStore } from '../blob-store.js';
import { decodePart, encodeGet, publisherOf, type Part } from './codec.js';
import { TransferError } from './errors.js';
import { Transfer, type FetchOptions, type FetchResult } from './transfer.js';

export type { FetchOptions, FetchProgress, FetchResult } from './transfer.js';

export interface BlobFetcherOptions {
  bus: Bus;
  site: string;
  /** This node's public key: parts addressed to it are received. */
  self: string;
  store: BlobStore;
  /** No new part for this long: ask the outstanding pieces again (default 15 s). */
  timeoutMs?: number;
  /** Times a piece is asked again (after a time-out or a mismatch) before the fetch fails (default 4). */
  retries?: number;
  /** Chunks outstanding at once (default 32). */
  windowChunks?: number;
  /** Bytes of chunks outstanding at once (default 4 MiB). */
  windowBytes?: number;
  /** The largest manifest taken (default 16 MiB: about 180,000 chunks, a 2.9 GiB bundle at 16 KiB a chunk). */
  maxManifestBytes?: number;
  /** Told of every dropped message (for a log line). */
  onRefused?: (from: string, why: FetcherRefusal, reason: string) => void;
}

export type FetcherRefusal = 'oversized' | 'malformed' | 'unasked' | 'mismatch' | 'bad-topic';

export interface BlobFetcherStats {
  /** Parts taken, and their bytes (payloads, header lines included). */
  parts: number;
  bytes: number;
  requests: number;
  /** Pieces asked again after a time-out or a mismatch. */
  reasked: number;
  refused: Record<FetcherRefusal, number>;
}

/** What a Transfer needs from its fetcher. */
export interface FetcherContext {
  store: BlobStore;
  timeoutMs: number;
  retries: number;
  windowChunks: number;
  windowBytes: number;
  maxManifestBytes: number;
  stats: BlobFetcherStats;
  ask(source: string, hashes: string[]): void;
  refused(from: string, why: FetcherRefusal, reason: string): void;
}

export class BlobFetcher {
  readonly stats: BlobFetcherStats = {
    parts: 0, bytes: 0, requests: 0, reasked: 0,
    refused: { oversized: 0, malformed: 0, unasked: 0, mismatch: 0, 'bad-topic': 0 },
  };
  private readonly t: ReturnType<typeof topics>;
  private readonly ctx: FetcherContext;
  private readonly running = new Set<Transfer>();
  private started = false;
  private readonly onMessage = (m: BusMessage): void => this.receive(m);

  constructor(private readonly o: BlobFetcherOptions) {
    this.t = topics(o.site);
    this.ctx = {
      store: o.store,
      timeoutMs: o.timeoutMs ?? 15_000,
      retries: o.retries ?? 4,
      windowChunks: o.windowChunks ?? 32,
      windowBytes: o.windowBytes ?? 4 << 20,
      maxManifestBytes: o.maxManifestBytes ?? 16 << 20,
      stats: this.stats,
      ask: (source, hashes) => this.ask(source, hashes),
      refused: (from, why, reason) => this.refuse(from, why, reason),
    };
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.o.bus.subscribe(this.t.blobFilters.putsTo(this.o.self), this.onMessage);
  }

  /** Stops receiving; running fetches fail with TRANSFER_CLOSED. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const tr of [...this.running]) tr.fail(new TransferError('TRANSFER_CLOSED', 'the fetcher was stopped during the fetch; start it and fetch again (chunks already stored are kept).'));
    await this.o.bus.unsubscribe(this.t.blobFilters.putsTo(this.o.self), this.onMessage);
  }

  /**
   * Fetches the blob whose manifest id is `id` from `source` into the store; resolves with the
   * manifest (pinned) once every chunk is stored and the whole verified.
   */
  async fetch(id: string, source: string, opts: FetchOptions = {}): Promise<FetchResult> {
    if (!/^[0-9a-f]{64}$/.test(id)) throw new TransferError('TRANSFER_BAD_INPUT', `the manifest id must be 64 lower-case hex digits (a bundle.publish entry's "manifest"), got ${JSON.stringify(String(id)).slice(0, 80)}.`);
    if (!PublicKeyHex.safeParse(source).success) throw new TransferError('TRANSFER_BAD_INPUT', `the source must be a node's public key (64 hex digits), got ${JSON.stringify(String(source)).slice(0, 80)}.`);
    if (!this.started) throw new TransferError('TRANSFER_CLOSED', 'the fetcher is not started; await fetcher.start() first.');
    for (const tr of this.running) {
      if (tr.id === id && tr.source === source) throw new TransferError('TRANSFER_BUSY', `blob ${id.slice(0, 16)}… is already being fetched from ${source.slice(0, 12)}…; await that fetch.`);
    }
    const tr = new Transfer(this.ctx, id, source, opts);
    this.running.add(tr);
    try {
      return await tr.run();
    } finally {
      this.running.delete(tr);
    }
  }

  private ask(source: string, hashes: string[]): void {
    for (let i = 0; i < hashes.length; i += BLOB_GET_MAX_HASHES) {
      this.stats.requests++;
      // A lost request is asked again after the time-out; a rejected publish is the same.
      this.o.bus.publish(this.t.blobGet(this.o.self, source), encodeGet(hashes.slice(i, i + BLOB_GET_MAX_HASHES)), { qos: 1 }).catch(() => undefined);
    }
  }

  private refuse(from: string, why: FetcherRefusal, reason: string): void {
    this.stats.refused[why]++;
    this.o.onRefused?.(from, why, reason);
  }

  private receive(m: BusMessage): void {
    if (!this.started) return;
    const from = publisherOf(m.topic, this.t.root, 'put', this.o.self);
    if (from === null) return this.refuse('?', 'bad-topic', `a part on ${m.topic.slice(0, 200)}`);
    const d = decodePart(m.payload);
    if (!d.ok) return this.refuse(from, d.why, d.reason);
    const part: Part = d.msg;
    let taken = false;
    for (const tr of this.running) {
      if (tr.source === from && tr.wants(part.hash)) {
        if (!taken) {
          this.stats.parts++;
          this.stats.bytes += m.payload.byteLength;
          taken = true;
        }
        tr.take(part);
      }
    }
    if (!taken) this.refuse(from, 'unasked', `a part of ${part.hash.slice(0, 16)}… that was not asked of ${from.slice(0, 12)}…`);
  }
}

/** The distinct chunk bytes of `m` (what a node holding none of it fetches). */
export function uniqueBytes(m: Manifest): number {
  return uniqueChunks(m).reduce((s, c) => s + c.size, 0);
}
