/**
 * A node's idea of the time (DESIGN §6, §10). A Pi has no RTC and a site network may have no
 * NTP, so the wall clock can be a month behind. The node's `now` is the later of its wall clock
 * and the newest time stamp it has verified from an enrolled, unretired coordinator (its
 * entries, the newest being its signed head); that floor is kept in the file (`meta`), so a
 * reboot never takes `now` back. "Too far in the future" is measured from that `now`, and the
 * hybrid logical clock that stamps this node's entries runs on it too.
 *
 * Only stamps of entries that were verified and stored move the clock, and only once their
 * transaction has committed. A stamp too far ahead of `now` (a restrictive entry is stored
 * whatever its stamp) never does: the entry's row then records the stamp 0, so reopening the
 * file does not start the clock from it either.
 */
import type Database from 'better-sqlite3';
import { HybridClock, compareHlc, type Hlc } from '@keymesh/protocol';
import { inFeedSql } from './schema.js';

const FLOOR_KEY = 'time_floor';

/**
 * How far past this node's `now` a coordinator's stamp is believed. A lagging Pi learns the
 * time (a month behind, a year), but one entry stamped a century ahead (a coordinator whose RTC
 * came back in 2123, or a stolen coordinator key) must not expire every membership for good:
 * past this it is an ordinary stamp, refused as too far ahead.
 */
export const MAX_COORDINATOR_LEAD_MS = 366 * 86_400_000;

export class NodeTime {
  readonly clock: HybridClock;
  private floor: number;
  /** The floor as raised inside the running transaction (written with it). */
  private stagedFloor: number;
  /** The newest stamp of the entries stored in the running transaction, absorbed when it commits. */
  private newest: Hlc | null = null;
  private readonly setFloor: Database.Statement | undefined;

  constructor(db: Database.Database, private readonly wall: () => number, maxDriftMs: number, readonly: boolean) {
    const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(FLOOR_KEY) as { value: string } | undefined;
    this.floor = this.stagedFloor = row ? Number(row.value) || 0 : 0;
    this.setFloor = readonly ? undefined : db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    // The newest stamp this node issued or absorbed (rows of unabsorbed entries record 0), read
    // from each feed's head: a feed's stamps only grow (its author's clock never goes back), and
    // a scan of every entry cost a cold open ~0.2-0.6 s at 200,000 events (bench, edge_open_cold_s).
    const last = db.prepare(`SELECT e.hlc_wall AS wall, e.hlc_logical AS logical FROM feeds f
      JOIN entries e ON e.id = (SELECT max(id) FROM entries WHERE ${inFeedSql('f.id')}) ORDER BY wall DESC, logical DESC LIMIT 1`).get() as Hlc | undefined;
    this.clock = new HybridClock(() => this.now(), maxDriftMs, last ?? { wall: 0, logical: 0 });
  }

  /** ms: the later of the wall clock and the newest time verified from a coordinator. */
  now(): number {
    const w = this.wall();
    return w > this.floor ? w : this.floor;
  }

  /** The newest time verified from a coordinator (0: none yet). */
  get verifiedFloor(): number {
    return this.floor;
  }

  isTooFarAhead(hlc: Hlc): boolean {
    return this.clock.isTooFarAhead(hlc);
  }

  /** May a coordinator's stamp `hlc` say what time it is (not too far past `now`)? */
  believable(hlc: Hlc): boolean {
    return hlc.wall <= Math.max(this.stagedFloor, this.wall()) + MAX_COORDINATOR_LEAD_MS;
  }

  /**
   * A received entry is being stored (inside the transaction). `fromCoordinator`: its author is
   * an enrolled, unretired coordinator, whose stamps raise the floor. Returns the stamp to record
   * in the entry's row: its own, or 0 when it will not be absorbed.
   */
  received(hlc: Hlc, fromCoordinator: boolean): Hlc {
    if (fromCoordinator && hlc.wall > this.stagedFloor && this.believable(hlc)) this.stagedFloor = hlc.wall;
    if (hlc.wall > Math.max(this.stagedFloor, this.wall()) + this.clock.maxDriftMs) return { wall: 0, logical: 0 };
    if (!this.newest || compareHlc(hlc, this.newest) > 0) this.newest = hlc;
    return hlc;
  }

  /** Inside the transaction, before it commits: persists a raised floor. */
  beforeCommit(): void {
    if (this.stagedFloor > this.floor) this.setFloor?.run(FLOOR_KEY, String(this.stagedFloor));
  }

  /** After the commit: the floor and the stamps of the stored entries take effect. */
  committed(): void {
    this.floor = this.stagedFloor;
    const s = this.newest;
    this.newest = null;
    if (s && !this.clock.isTooFarAhead(s)) this.clock.receive(s);
  }

  /** The transaction failed: nothing it stored counts. */
  rolledBack(): void {
    this.stagedFloor = this.floor;
    this.newest = null;
  }
}
