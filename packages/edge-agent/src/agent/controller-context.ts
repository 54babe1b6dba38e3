/**
 * The agent's side of the controllers' port (controllers/context.ts): decisions on the local
 * replica, at the node's verified `now`, with the rules' freshness (DESIGN §6); entries appended
 * to this node's feed (committed before they are published: outbox.ts).
 */
import { canCertifyAt, decide, type BodyOf, type CanCertify, type Decision, type EntryType, type KeyPair, type LockoutValue, type NodeState } from '@keymesh/protocol';
import type { Ledger } from '@keymesh/ledger';
import type { ControllerContext } from '../controllers/context.js';
import type { Outbox } from './outbox.js';

export interface ContextHost {
  ledger: Ledger;
  key: KeyPair;
  resource: string;
  outbox: Outbox;
  rulesFreshAt(): number | null;
  onDecision(card: string, d: Decision): void;
  onState(state: NodeState['state'], member: string | null): void;
  onSay(text: string, tone: 'ok' | 'deny' | 'info' | 'alarm'): void;
  onRecordFailed(type: EntryType, err: unknown): void;
}

export function controllerContext(h: ContextHost): ControllerContext {
  return {
    now: () => h.ledger.now(),
    decide(card: string): Decision {
      const d = decide(h.ledger.policy, { kind: 'card', card }, h.resource, h.ledger.now(), { node: h.key.publicKey, rulesSyncedAt: h.rulesFreshAt() });
      h.onDecision(card, d);
      return d;
    },
    record<T extends EntryType>(type: T, body: BodyOf<T>, deps?: readonly string[]): void {
      try {
        h.outbox.add(h.ledger.appendMany(h.key, [{ type, body, ...(deps ? { deps } : {}) }]).map((x) => x.entry));
      } catch (err) {
        // The relay has moved already; a record that fails (disk full, a closed ledger) is reported, never thrown into a controller.
        h.onRecordFailed(type, err);
      }
    },
    canCertify: (trainer: string, trainee: string): CanCertify => canCertifyAt(h.ledger.policy, trainer, trainee, h.resource),
    lockout: (): LockoutValue['state'] | null => h.ledger.policy.lockout(h.resource)?.state ?? null,
    stateChanged: (state, member) => h.onState(state, member),
    say: (text, tone) => h.onSay(text, tone),
  };
}
