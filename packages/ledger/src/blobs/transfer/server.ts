/**
 * Answers blob requests addressed to this node (`blob/<from>/get/<self>`) from its BlobStore:
 * chunks by hash, and pinned manifests by id (manifest-bytes.ts). Each reply is a part of at
 * most 64 KiB (codec.ts), sent on `blob/<self>/put/<from>`.
 *
 * Pacing (DESIGN §7: serving never holds the event loop for long, an edge keeps deciding taps):
 * parts are sent from setImmediate turns, one requester after another, each turn stopping after
 * `sliceMs` or when `window` publishes await the broker's acknowledgement. Bounds: a requester
 * has at most `maxRequestsPerPeer` requests (`maxHashesPerPeer` hashes) queued, at most `maxPeers` requesters are queued at
 * once; requests past either are refused, not queued. Hashes this node lacks are skipped
 * without an answer: the fetcher asks elsewhere after its time-out.
 */
import { topics } from '@keymesh/protocol';
import type { Bus, BusMessage } from '../../bus/bus.js';
import type { BlobStore } from '../blob-store.js';
import { decodeGet, encodePart, nextOffset, publisherOf } from './codec.js';
import { PinnedManifests } from './manifest-bytes.js';

export interface BlobServerOptions {
  bus: Bus;
  site: string;
  /** This node's public key: requests addressed to it are answered. */
  self: string;
  store: BlobStore;
  /** Whether `requester` may be served (e.g. an enrolled node); default everyone. */
  allow?: (requester: string) => boolean;
  /** Requests one requester may have queued (default 16). */
  maxRequestsPerPeer?: number;
  /** Hashes one requester may have queued over its requests (default 256). */
  maxHashesPerPeer?: number;
  /** Requesters queued at once (default 64). */
  maxPeers?: number;
  /** Parts published and not yet acknowledged (default 8). */
  window?: number;
  /** Longest run of sending in one event-loop turn, in ms (default 4). */
  sliceMs?: number;
  /** A publish not acknowledged within this is counted failed and frees its place (default 30 s). */
  publishTimeoutMs?: number;
  /** Told of every refused request (for a log line). */
  onRefused?: (from: string, why: ServerRefusal, reason: string) => void;
}

export type ServerRefusal = 'oversized' | 'malformed' | 'busy' | 'denied' | 'bad-topic';

export interface BlobServerStats {
  requests: number;
  parts: number;
  bytes: number;
  /** Pieces (chunks or manifests) sent whole. */
  pieces: number;
  /** Hashes asked for that this node does not hold (or holds damaged). */
  lacked: number;
  failedPublishes: number;
  refused: Record<ServerRefusal, number>;
}

interface Piece {
  hash: string;
  bytes: Uint8Array;
  offset: number;
}

interface Peer {
  requests: string[][];
  piece: Piece | null;
}

export class BlobServer {
  readonly stats: BlobServerStats = {
    requests: 0, parts: 0, bytes: 0, pieces: 0, lacked: 0, failedPublishes: 0,
    refused: { oversized: 0, malformed: 0, busy: 0, denied: 0, 'bad-topic': 0 },
  };
  private readonly t: ReturnType<typeof topics>;
  private readonly manifests: PinnedManifests;
  private readonly peers = new Map<string, Peer>();
  private readonly maxRequests: number;
  private readonly maxHashes: number;
  private readonly maxPeers: number;
  private readonly window: number;
  private readonly sliceMs: number;
  private readonly publishTimeoutMs: number;
  private inflight = 0;
  private scheduled = false;
  private running = false;
  private readonly onMessage = (m: BusMessage): void => this.receive(m);

  constructor(private readonly o: BlobServerOptions) {
    this.t = topics(o.site);
    this.manifests = new PinnedManifests(o.store);
    this.maxRequests = o.maxRequestsPerPeer ?? 16;
    this.maxHashes = o.maxHashesPerPeer ?? 256;
    this.maxPeers = o.maxPeers ?? 64;
    this.window = o.window ?? 8;
    this.sliceMs = o.sliceMs ?? 4;
    this.publishTimeoutMs = o.publishTimeoutMs ?? 30_000;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.o.bus.subscribe(this.t.blobFilters.getsTo(this.o.self), this.onMessage);
  }

  /** Stops answering and forgets what was queued. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.peers.clear();
    await this.o.bus.unsubscribe(this.t.blobFilters.getsTo(this.o.self), this.onMessage);
  }

  /** Requests queued and not yet answered, over all requesters. */
  get queued(): number {
    let n = 0;
    for (const p of this.peers.values()) n += p.requests.length + (p.piece ? 1 : 0);
    return n;
  }

  private refuse(from: string, why: ServerRefusal, reason: string): void {
    this.stats.refused[why]++;
    this.o.onRefused?.(from, why, reason);
  }

  private receive(m: BusMessage): void {
    if (!this.running || m.retain) return; // a retained request is stale by definition
    const from = publisherOf(m.topic, this.t.root, 'get', this.o.self);
    if (from === null) return this.refuse('?', 'bad-topic', `a request on ${m.topic.slice(0, 200)}`);
    const d = decodeGet(m.payload);
    if (!d.ok) return this.refuse(from, d.why, d.reason);
    if (this.o.allow && !this.o.allow(from)) return this.refuse(from, 'denied', `${from.slice(0, 12)}… may not fetch blobs here`);
    let peer = this.peers.get(from);
    if (!peer) {
      if (this.peers.size >= this.maxPeers) return this.refuse(from, 'busy', `${this.maxPeers} requesters are being served; ask again later`);
      peer = { requests: [], piece: null };
    }
    const hashes = [...new Set(d.msg.hashes)];
    const queued = peer.requests.reduce((n, r) => n + r.length, 0);
    if (peer.requests.length >= this.maxRequests || queued + hashes.length > this.maxHashes) {
      return this.refuse(from, 'busy', `${peer.requests.length} requests (${queued} hashes) of this requester are queued, at most ${this.maxRequests} (${this.maxHashes}); ask again when they are answered`);
    }
    this.stats.requests++;
    peer.requests.push(hashes);
    this.peers.set(from, peer);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || !this.running) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.turn();
    });
  }

  private turn(): void {
    const start = performance.now();
    while (this.running && this.inflight < this.window && this.peers.size > 0) {
      // Round robin: the first requester sends one part, then goes to the back of the line.
      const [from, peer] = this.peers.entries().next().value as [string, Peer];
      this.peers.delete(from);
      const part = this.nextPart(peer);
      if (part === null) continue; // nothing left for it: it leaves the line
      this.peers.set(from, peer);
      this.send(from, part);
      if (performance.now() - start >= this.sliceMs) break;
    }
    if (this.inflight < this.window && this.peers.size > 0) this.schedule();
  }

  /** The requester's next part, or null when it has nothing left this node holds. */
  private nextPart(peer: Peer): Uint8Array | null {
    while (peer.piece === null) {
      const req = peer.requests[0];
      if (req === undefined) return null;
      const hash = req.shift();
      if (req.length === 0) peer.requests.shift();
      if (hash === undefined) continue;
      const bytes = this.lookup(hash);
      if (bytes === undefined) this.stats.lacked++;
      else peer.piece = { hash, bytes, offset: 0 };
    }
    const p = peer.piece;
    const part = encodePart(p.hash, p.bytes, p.offset);
    const next = nextOffset(p.offset, p.bytes.byteLength);
    if (next === null) {
      peer.piece = null;
      this.stats.pieces++;
    } else {
      p.offset = next;
    }
    return part;
  }

  private lookup(hash: string): Uint8Array | undefined {
    try {
      return this.o.store.getChunk(hash) ?? this.manifests.bytes(hash);
    } catch {
      return undefined; // a damaged chunk (BLOB_CHUNK_CORRUPT) is not served; verify() finds it
    }
  }

  private send(to: string, part: Uint8Array): void {
    this.inflight++;
    this.stats.parts++;
    this.stats.bytes += part.byteLength;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('publish not acknowledged')), this.publishTimeoutMs);
    });
    Promise.race([this.o.bus.publish(this.t.blobPut(this.o.self, to), part, { qos: 1 }), timeout])
      .catch(() => { this.stats.failedPublishes++; })
      .finally(() => {
        clearTimeout(timer);
        this.inflight--;
        this.schedule();
      });
  }
}

