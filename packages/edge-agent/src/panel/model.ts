/**
 * What the local panel shows and the seam between it and the agent: the agent implements
 * `PanelModel`, the panel (server.ts, lcd-lines.ts) only reads it. Plain data, no I/O, so the
 * panel is tested with a fake model and the agent without a browser.
 *
 * No card uid is ever in a snapshot the panel sends: `sim.cards[].uid` is for the agent's own
 * sim badges and stays on the server (server.ts sends each card's label only; a tap on a demo
 * badge names the label and the server looks the uid up). DESIGN §3.
 */
import type { CardUid, DecisionReason, NodeState } from '@keymesh/protocol';

export type PanelTone = 'ok' | 'deny' | 'info' | 'alarm';

export interface PanelSnapshot {
  node: {
    name: string;
    /** The first 16 hex digits of the node's public key (enough to tell nodes apart on a screen). */
    key: string;
    kind: 'door' | 'machine';
    resource: { id: string; name: string };
  };
  state: NodeState['state'];
  /** Who holds the machine (machine in use) or who last opened the door while it is unlocked. */
  member: { id: string; name: string } | null;
  /** When the current session started (ms since the epoch); null when none runs. */
  sessionStartedAt: number | null;
  lastDecision: {
    at: number;
    allow: boolean;
    reason: DecisionReason;
    /** The reason in words (DECISION_REASONS or the agent's own sentence). */
    message: string;
    /** The member's name, else their id; null for an unknown card. */
    member: string | null;
  } | null;
  /** The agent's newest message for people (trainer flow, idle warning, lockout...). */
  lastMessage: { text: string; tone: PanelTone; at: number } | null;
  /** Age of the newest rules held, ms (null: never synced). */
  rulesAgeMs: number | null;
  /** When the rules were last confirmed fresh (DESIGN §6); null: never. */
  rulesFreshAt: number | null;
  /** The resource's rules are stale (protocol `rulesAreStale`): only admins may use it. */
  rulesStale: boolean;
  /** Connected to the broker. */
  online: boolean;
  /** Active alarms, in words ("door held open", "emergency stop pressed"). */
  alarms: string[];
  /** Sim hardware (sim drivers only), else null. */
  sim: null | {
    outputs: Array<{ name: string; on: boolean }>;
    inputs: Array<{ name: string; active: boolean }>;
    /** Demo badges. The uid never leaves the agent: the panel sends labels (see above). */
    cards: Array<{ label: string; uid: CardUid }>;
  };
}

/** The result of a sim tap, for the page and `keymesh-edge tap`: `ok` is the access decision (or the action's success), `message` its words. Never a uid. */
export interface SimTapResult {
  ok: boolean;
  message: string;
}

export interface PanelModel {
  snapshot(): PanelSnapshot;
  /** `cb` runs after each change worth showing; returns the unsubscribe. */
  subscribe(cb: () => void): () => void;
  /** Present only when the agent runs sim hardware: the panel's sim endpoints exist only then. */
  sim?: {
    /** A badge read on the sim reader; `uid` is canonical (the panel normalises it first). */
    tap(uid: CardUid): SimTapResult | Promise<SimTapResult>;
    /** Sets a sim input (door sensor, exit button, e-stop, activity) by its config name; false if there is no such input. */
    setInput(name: string, active: boolean): boolean;
  };
}
