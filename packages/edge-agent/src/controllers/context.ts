/**
 * What a controller (door, machine) needs from the agent, as ports: the controllers are state
 * machines over devices and these calls, tested with fake timers and no ledger or network.
 *
 * Order on a tap (DESIGN §6): the controller decides, drives its outputs, then records; the
 * agent's `record` commits the entry (one SQLite transaction) and then publishes it. The network
 * is never on the path.
 */
import type { BodyOf, CanCertify, Decision, EntryType, LockoutValue, NodeState } from '@keymesh/protocol';

export interface ControllerContext {
  /** The node's `now` (ms): never earlier than the newest verified coordinator time. */
  now(): number;
  /** decide() on the local replica for this card reference at this node's resource. */
  decide(card: string): Decision;
  /**
   * Appends an entry to this node's feed (committed, then published). Never throws for a valid
   * body. `deps`: the policy heads the entry names (a panel's `cert.grant` names the trainer
   * record it was judged against); events name none.
   */
  record<T extends EntryType>(type: T, body: BodyOf<T>, deps?: readonly string[]): void;
  /** canCertifyAt(state, trainer, trainee, this node's resource) on the local replica (a machine panel's trainer flow). */
  canCertify(trainer: string, trainee: string): CanCertify;
  /** This node's resource's lockout now (state.lockout(resource)?.state), null if none was ever set. */
  lockout(): LockoutValue['state'] | null;
  /** The door's or machine's state changed: the agent publishes it (retained) and shows it on the panel. */
  stateChanged(state: NodeState['state'], member: string | null): void;
  /** A line for the panel and the display: what just happened, in words. */
  say(message: string, tone: 'ok' | 'deny' | 'info' | 'alarm'): void;
}
