/**
 * The agent as the panel sees it (panel/model.ts): a snapshot built from the replica and the
 * controller's last words, change notices, and in sim mode the panel's badge buttons and input
 * switches. The same snapshot feeds a character display (panel/lcd-lines.ts). No uid is ever
 * in it: a sim tap's uid goes straight into the reader path, which turns it into a reference.
 */
import { rulesAreStale, type CardUid, type Decision, type NodeState } from '@keymesh/protocol';
import type { Display } from '../drivers/types.js';
import { SimInput, SimOutput } from '../drivers/sim/index.js';
import { lcdLines } from '../panel/lcd-lines.js';
import type { PanelModel, PanelSnapshot, PanelTone, SimTapResult } from '../panel/model.js';
import type { Agent } from './agent.js';

const ALARM_WORDS: Partial<Record<NodeState['state'], string>> = {
  forced: 'door forced open',
  held_open: 'door held open',
};

export class AgentView implements PanelModel {
  online = false;
  private state: NodeState['state'] = 'locked';
  private member: string | null = null;
  private sessionStartedAt: number | null = null;
  private lastDecision: PanelSnapshot['lastDecision'] = null;
  private lastMessage: PanelSnapshot['lastMessage'] = null;
  private readonly listeners = new Set<() => void>();
  private notifyQueued = false;
  sim?: PanelModel['sim'];
  private displayTimer: NodeJS.Timeout | null = null;

  constructor(private readonly agent: Agent) {}

  /** Sim mode: the panel may tap badges and switch inputs. Called once the devices are open. */
  enableSim(tap: (uid: CardUid) => string): void {
    const d = this.agent.devices!;
    const ins = Object.entries(d).filter((e): e is [string, SimInput] => e[1] instanceof SimInput);
    for (const o of Object.values(d)) if (o instanceof SimOutput) o.onChange(() => this.changed());
    this.sim = {
      tap: (uid: CardUid): SimTapResult => {
        const before = this.lastDecision;
        const what = tap(uid);
        if (what !== 'tap') return { ok: false, message: what === 'repeat' ? 'the same badge again: one tap' : 'unknown card ignored (rate limit)' };
        const d = this.lastDecision;
        if (!d || d === before) return { ok: true, message: this.lastMessage?.text ?? 'done' };
        return { ok: d.allow, message: d.allow ? `allowed: ${d.member ?? ''}`.trim() : `denied: ${d.message}` };
      },
      setInput: (name: string, active: boolean): boolean => {
        const hit = ins.find(([role]) => role === name);
        if (!hit) return false;
        hit[1].set(active);
        return true;
      },
    };
  }

  showOnDisplay(display: Display | undefined): void {
    if (!display) return;
    const show = () => display.show(lcdLines(this.snapshot(), { columns: display.columns, rows: display.rows }, Date.now()));
    this.subscribe(show);
    show();
    // The session timer ticks on the display too (the display only redraws lines that changed).
    this.displayTimer = setInterval(() => {
      if (this.sessionStartedAt !== null) show();
    }, 1000);
    this.displayTimer.unref();
  }

  stop(): void {
    if (this.displayTimer) clearInterval(this.displayTimer);
    this.displayTimer = null;
    this.listeners.clear();
  }

  decision(d: Decision): void {
    const m = d.member === null ? null : this.agent.ledger.policy.member(d.member);
    this.lastDecision = { at: Date.now(), allow: d.allow, reason: d.reason, message: d.message, member: m?.name ?? d.member };
    this.changed();
  }

  say(text: string, tone: PanelTone): void {
    this.lastMessage = { text, tone, at: Date.now() };
    this.changed();
  }

  setState(state: NodeState['state'], member: string | null): void {
    if (state === 'in_use' && (this.state !== 'in_use' || member !== this.member)) this.sessionStartedAt = Date.now();
    if (state !== 'in_use') this.sessionStartedAt = null;
    this.state = state;
    this.member = member;
    this.changed();
  }

  setOnline(up: boolean): void {
    if (up === this.online) return;
    this.online = up;
    this.changed();
  }

  /** Coalesced: a burst of changes is one notice. */
  changed(): void {
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      for (const l of [...this.listeners]) {
        try {
          l();
        } catch {
          // a listener's failure is its own
        }
      }
    });
  }

  subscribe(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  snapshot(): PanelSnapshot {
    const a = this.agent;
    const policy = a.ledger.policy;
    const resource = policy.resource(a.resource);
    const now = a.ledger.now();
    const freshAt = a.sync?.rulesFreshAt ?? null;
    const member = this.member === null ? null : { id: this.member, name: policy.member(this.member)?.name ?? this.member };
    const d = a.devices!;
    const alarm = ALARM_WORDS[this.state];
    const sim = this.sim
      ? {
          outputs: Object.entries(d).filter(([, v]) => v instanceof SimOutput).map(([name, v]) => ({ name, on: (v as SimOutput).value })),
          inputs: Object.entries(d).filter(([, v]) => v instanceof SimInput).map(([name, v]) => ({ name, active: (v as SimInput).read() })),
          cards: a.o.config.simCards.map((c) => ({ label: c.label, uid: c.uid as CardUid })),
        }
      : null;
    return {
      node: { name: a.enrolment.node.name, key: a.key.publicKey.slice(0, 16), kind: a.enrolment.node.kind, resource: { id: a.resource, name: resource?.name ?? a.resource } },
      state: this.state,
      member,
      sessionStartedAt: this.sessionStartedAt,
      lastDecision: this.lastDecision,
      lastMessage: this.lastMessage,
      rulesAgeMs: freshAt === null ? null : Math.max(0, now - freshAt),
      rulesFreshAt: freshAt,
      rulesStale: resource ? rulesAreStale(resource, now, { rulesSyncedAt: freshAt }) : false,
      online: this.online,
      alarms: alarm ? [alarm] : [],
      sim,
    };
  }
}
