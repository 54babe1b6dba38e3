/**
 * Bundles at the edge (DESIGN §8, issue Deliver 5): the bundles published for this node (read
 * from the replica: wanted.ts) are fetched from an enrolled coordinator over the bus with the
 * ledger's blob transfer (only the chunks the store lacks; each chunk checked against its hash
 * as it arrives, the whole against the manifest), checked against the size the admin signed,
 * written to the data folder (bundle-files.ts), and reported in a signed, retained `held`
 * message, which the coordinator's `keymesh bundle status` reads.
 *
 * The replica has no change events, so the wanted list is read again every `pollMs`, on each
 * reconnection, and whenever the agent calls check() (after sync stored entries). A failed
 * fetch waits before it is tried again (doubling, up to an hour), so a bundle no source holds
 * costs nothing while taps go on. Switching the running version is not done here: see
 * hardware/bundles.md.
 */
import { BlobFetcher, TransferError, publishHeld, type BlobStore, type Bus } from '@keymesh/ledger';
import { BLOB_HELD_MAX_BUNDLES, type BundleValue, type HeldBundle, type KeyPair } from '@keymesh/protocol';
import type { DriverEnv } from '../drivers/env.js';
import { EdgeError } from '../errors.js';
import { BundleFiles } from './bundle-files.js';
import { bundleSources, bundlesFor, compareVersions, type BundleLedgerView } from './wanted.js';

export interface EdgeBundlesOptions {
  bus: Bus;
  site: string;
  /** This node's key: bundles targeted at it are fetched, and its held report is signed with it. */
  key: KeyPair;
  ledger: BundleLedgerView;
  /** The node's blob store (opened with the coordinator's bundle chunk sizes, BUNDLE_CHUNKING). */
  blobs: BlobStore;
  /** The data folder: bundles are written to its `bundles/<version>/`. */
  dir: string;
  log: DriverEnv['log'];
  /** How often the wanted list is read again (default 30 s). */
  pollMs?: number;
  /** The first wait after a failed fetch (default 60 s; it doubles, up to an hour). */
  retryMs?: number;
  /** Passed to the blob fetcher (defaults: 15 s without a part, 4 retries). */
  timeoutMs?: number;
  retries?: number;
}

export interface EdgeBundlesStatus {
  held: HeldBundle[];
  /** The version being fetched now, if any. */
  fetching: string | null;
  /** Bundles that failed, with why and when they are tried again. */
  failed: Array<{ version: string; manifest: string; reason: string; retryAt: number }>;
}

const MAX_WAIT_MS = 3_600_000;

export class EdgeBundles {
  private readonly fetcher: BlobFetcher;
  private readonly files: BundleFiles;
  private held: HeldBundle[] = [];
  private readonly failures = new Map<string, { version: string; reason: string; retryAt: number; wait: number }>();
  private fetching: string | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private started = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private offConnection: (() => void) | undefined;
  private lastAt = 0;
  private scanned = false;
  private lastRefusedLog = -Infinity;
  private refusedSince = 0;

  constructor(private readonly o: EdgeBundlesOptions) {
    this.files = new BundleFiles(o.dir);
    this.fetcher = new BlobFetcher({
      bus: o.bus, site: o.site, self: o.key.publicKey, store: o.blobs, timeoutMs: o.timeoutMs, retries: o.retries,
      onRefused: (from, why, reason) => this.refused(from, why, reason),
    });
  }

  /**
   * Starts listening and returns; in the background it checks what the data folder holds
   * (hashing each bundle file: a start never waits on that), reports it, then fetches what is
   * wanted and missing. `check()` resolves when that first pass is done.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.fetcher.start();
    this.offConnection = this.o.bus.onConnection((up) => {
      if (!up) return;
      void this.report();
      void this.check();
    });
    this.timer = setInterval(() => void this.check(), this.o.pollMs ?? 30_000);
    this.timer.unref();
    void this.check();
  }

  /** Stops fetching (a fetch under way ends; chunks stored are kept) and waits for the loop. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    clearInterval(this.timer);
    this.offConnection?.();
    await this.fetcher.stop();
    await this.running?.catch(() => undefined);
  }

  status(): EdgeBundlesStatus {
    return {
      held: [...this.held],
      fetching: this.fetching,
      failed: [...this.failures].map(([manifest, f]) => ({ manifest, version: f.version, reason: f.reason, retryAt: f.retryAt })),
    };
  }

  /**
   * Fetches every wanted bundle not held (newest first); resolves when the pass ends. A call
   * during a pass runs one more pass after it.
   */
  check(): Promise<void> {
    if (!this.started) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        if (!this.scanned) await this.scan();
        do {
          this.again = false;
          await this.pass();
        } while (this.again && this.started);
      } catch (err) {
        // Never an unhandled rejection: the next poll tries again.
        this.o.log('error', 'bundle check failed; tried again at the next poll', { reason: (err as Error).message });
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** What the data folder holds whole (checked once per start), then the first report. */
  private async scan(): Promise<void> {
    const { held, damaged } = await this.files.held(this.o.blobs);
    for (const v of damaged) this.o.log('warn', `bundle ${v} in ${this.files.root} does not match its manifest (damaged or incomplete); it is fetched again if still published`, { version: v });
    this.held = held;
    this.scanned = true;
    await this.report();
  }

  private async pass(): Promise<void> {
    const self = this.o.key.publicKey;
    for (const b of bundlesFor(this.o.ledger, self)) {
      if (!this.started) return;
      if (this.held.some((h) => h.manifest === b.manifest)) continue;
      const f = this.failures.get(b.manifest);
      if (f && Date.now() < f.retryAt) continue;
      try {
        await this.fetchOne(b);
        this.failures.delete(b.manifest);
      } catch (err) {
        if (!this.started) return;
        const wait = Math.min(MAX_WAIT_MS, f ? f.wait * 2 : this.o.retryMs ?? 60_000);
        const reason = (err as Error).message;
        this.failures.set(b.manifest, { version: b.version, reason, retryAt: Date.now() + wait, wait });
        this.o.log('warn', `bundle ${b.version} not fetched; tried again in ${Math.round(wait / 1000)} s`, { version: b.version, manifest: b.manifest.slice(0, 16), code: (err as { code?: string }).code, reason });
      } finally {
        this.fetching = null;
      }
    }
  }

  private async fetchOne(b: BundleValue): Promise<void> {
    const other = this.files.idOf(b.version);
    if (other !== undefined && other !== b.manifest) {
      throw new EdgeError('BUNDLE_REFUSED', `version ${b.version} is held here already as manifest ${other.slice(0, 16)}…, and ${b.manifest.slice(0, 16)}… is published under the same version; a version names one bundle: publish it again under a new version.`, { version: b.version });
    }
    const sources = bundleSources(this.o.ledger);
    if (sources.length === 0) throw new EdgeError('BUNDLE_REFUSED', 'the replica names no enrolled coordinator to fetch bundles from; wait for sync to bring the site\'s enrolments.');
    this.fetching = b.version;
    let last: unknown;
    for (const source of sources) {
      try {
        const started = Date.now();
        const r = await this.fetcher.fetch(b.manifest, source);
        if (r.manifest.size !== b.size) {
          this.o.blobs.unpin(r.manifest);
          throw new EdgeError('BUNDLE_REFUSED', `bundle ${b.version} is ${r.manifest.size} bytes but its bundle.publish says ${b.size}; nothing was installed. Publish it again.`, { version: b.version });
        }
        // store.get() hashes every chunk again and the whole as the file is written.
        const file = await this.files.write(b.version, b.manifest, this.o.blobs.get(r.manifest));
        this.o.log('info', `bundle ${b.version} fetched and verified`, { version: b.version, file, fetchedChunks: r.fetchedChunks, fetchedBytes: r.fetchedBytes, heldChunks: r.heldChunks, ms: Date.now() - started });
        this.held = [...this.held.filter((h) => h.version !== b.version), { manifest: b.manifest, version: b.version }];
        await this.report();
        return;
      } catch (err) {
        last = err;
        if (err instanceof EdgeError || (err instanceof TransferError && err.code === 'TRANSFER_CLOSED')) throw err;
      }
    }
    throw last;
  }

  /** A log line per refused part, at most one each 10 s (a flood of bad parts is not a flood of lines). */
  private refused(from: string, why: string, reason: string): void {
    const now = Date.now();
    if (now - this.lastRefusedLog < 10_000) {
      this.refusedSince++;
      return;
    }
    this.o.log('warn', 'bundle transfer: a part was refused', { from: from.slice(0, 12), why, reason, alsoRefusedSinceLastLine: this.refusedSince });
    this.lastRefusedLog = now;
    this.refusedSince = 0;
  }

  /** Publishes the held report (retained); when the bus is down, the next connection does it. */
  private async report(): Promise<void> {
    if (!this.o.bus.connected || !this.scanned) return;
    const held = [...this.held].sort((a, b) => compareVersions(b.version, a.version)).slice(0, BLOB_HELD_MAX_BUNDLES);
    try {
      // A newer report must carry a later time: the coordinator keeps the latest by `at`.
      const at = Math.max(this.o.ledger.now(), this.lastAt + 1);
      this.lastAt = at;
      await publishHeld(this.o.bus, this.o.site, this.o.key, held, at);
    } catch (err) {
      this.o.log('warn', 'bundle held report not published; sent again on reconnection', { reason: (err as Error).message });
    }
  }
}
