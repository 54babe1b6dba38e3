/**
 * What leaves the agent through the panel (GET /api/status, each event, the page's first
 * paint): the snapshot without any card uid (DESIGN §3), plus the agent's clock so a screen
 * with a wrong clock still counts a session from the right moment.
 */
import type { PanelSnapshot } from './model.js';

export type SimView = {
  outputs: Array<{ name: string; on: boolean }>;
  inputs: Array<{ name: string; active: boolean }>;
  /** Demo badges by label only: a tap names the label and the server finds the uid. */
  cards: Array<{ label: string }>;
};

export type PanelView = Omit<PanelSnapshot, 'sim'> & {
  /** The agent's clock when this view was made (ms since the epoch). */
  now: number;
  sim: SimView | null;
};

export function panelView(s: PanelSnapshot, now: number): PanelView {
  const { sim, ...rest } = s;
  return {
    ...rest,
    now,
    sim: sim && {
      outputs: sim.outputs.map((o) => ({ name: o.name, on: o.on })),
      inputs: sim.inputs.map((i) => ({ name: i.name, active: i.active })),
      cards: sim.cards.map((c) => ({ label: c.label })),
    },
  };
}
