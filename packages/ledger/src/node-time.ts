/**
 * A node's idea of the time (DESIGN §6, §10). A Pi has no RTC and a site network may have no
 * NTP, so the wall clock can be a month behind. The node's `now` is the later of its wall clock
 * and the newest time stamp verified from an enrolled coordinator it still trusts (that
 * coordinator's newest trusted entry, its signed head). The ledger recomputes it from the
 * stored entries on open and whenever nodes change, so a reboot keeps it and retiring a
 * coordinator (a stolen key) takes back the time it claimed. "Too far in the future" is
 * measured from `now`. The two rules (`nodeNow`, `coordinatorStampBelievable`) are the protocol's,
 * so every reader of the time (the browser included) applies the same ones; this file keeps the
 * state: the floor, the baseline, the clock.
 *
 * The hybrid logical clock that stamps this node's own entries runs on the wall clock, and only
 * stamps of stored entries within its drift limit move it (after their transaction commits):
 * verified time decides taps and admits entries, but never drags this node's stamps forward,
 * so a coordinator key that lied about the time leaves no trace in what the node signs. A
 * coordinator's stamp is believed up to a year past the later of the wall clock and the time
 * this node had when it opened the file, so a chain of entries cannot ratchet it further.
 */
import type Database from 'better-sqlite3';
import { HybridClock, MAX_COORDINATOR_LEAD_MS, compareHlc, coordinatorStampBelievable, nodeNow, type Hlc } from '@keymesh/protocol';
import { inFeedSql } from './migrations.js';

/** How far past the wall clock (or the time at open) a coordinator's stamp is believed (the protocol's, node-now.ts). */
export { MAX_COORDINATOR_LEAD_MS };

export class NodeTime {
  readonly clock: HybridClock;
  private floor = 0;
  /** The floor as raised inside the running transaction. */
  private stagedFloor = 0;
  /** The floor when the file was opened: what a coordinator's lead is measured from. */
  private baseline = 0;
  /** The newest stamp of the entries stored in the running transaction, absorbed when it commits. */
  private newest: Hlc | null = null;

  constructor(db: Database.Database, private readonly wall: () => number, private readonly maxDriftMs: number) {
    // The newest stamp this node issued or absorbed (rows of unabsorbed entries record 0), read
    // from each feed's head: a feed's stamps only grow (its author's clock never goes back), and
    // a scan of every entry cost a cold open ~0.2-0.6 s at 200,000 events (bench, edge_open_cold_s).
    const last = db.prepare(`SELECT e.hlc_wall AS wall, e.hlc_logical AS logical FROM feeds f
      JOIN entries e ON e.id = (SELECT max(id) FROM entries WHERE ${inFeedSql('f.id')}) ORDER BY wall DESC, logical DESC LIMIT 1`).get() as Hlc | undefined;
    this.clock = new HybridClock(wall, maxDriftMs, last ?? { wall: 0, logical: 0 });
  }

  /** Sets the verified time (from the trusted coordinators' entries); `atOpen` also sets the baseline. */
  recompute(floor: number, atOpen = false): void {
    this.floor = this.stagedFloor = floor;
    if (atOpen) this.baseline = floor;
  }

  /** ms: the later of the wall clock and the newest time verified from a coordinator. */
  now(): number {
    return nodeNow(this.wall(), this.stagedFloor);
  }

  /** The newest time verified from a coordinator (0: none yet). */
  get verifiedFloor(): number {
    return this.floor;
  }

  /** Is `hlc` further ahead of `now` than the drift limit? */
  isTooFarAhead(hlc: Hlc): boolean {
    return hlc.wall > this.now() + this.maxDriftMs;
  }

  /** May a coordinator's stamp `hlc` say what time it is? */
  believable(hlc: Hlc): boolean {
    return coordinatorStampBelievable(hlc.wall, this.wall(), this.baseline);
  }

  /**
   * A received entry is being stored (inside the transaction). `fromCoordinator`: its author is
   * an enrolled coordinator trusted for it, whose stamps raise `now`. Returns the stamp to
   * record in the entry's row: its own, or 0 when the clock will not absorb it.
   */
  received(hlc: Hlc, fromCoordinator: boolean): Hlc {
    if (fromCoordinator && hlc.wall > this.stagedFloor && this.believable(hlc)) this.stagedFloor = hlc.wall;
    if (this.clock.isTooFarAhead(hlc)) return { wall: 0, logical: 0 };
    if (!this.newest || compareHlc(hlc, this.newest) > 0) this.newest = hlc;
    return hlc;
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
