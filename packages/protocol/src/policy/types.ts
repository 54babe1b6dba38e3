/** The reducer's public shapes: registers, conflicts, forks, the read view decide() needs. */
import type { CardValue, LockoutValue, MemberValue, NodeValue, ResourceValue } from './values.js';

export interface Register<V> {
  value: V;
  heads: string[];
}

export interface Conflict {
  key: string;
  heads: string[];
}

export interface Fork {
  author: string;
  seq: number;
  hashes: string[];
  /** An admin has withdrawn the key's trust before the fork (retired, removed, `until`): kept as proof, nothing left to do. */
  resolved: boolean;
}

/** 'inert': an entry this release does not understand (DESIGN §4): kept for fork detection only. */
export type AddOutcome = 'added' | 'duplicate' | 'wrong-site' | 'inert';

/** Read access to the rules; what `decide()` needs. The ledger implements it too. */
export interface PolicyView {
  resource(id: string): ResourceValue | undefined;
  /** The card by its reference (card-ref.ts). */
  card(ref: string): CardValue | undefined;
  member(id: string): MemberValue | undefined;
  /** Is the certification currently granted? */
  certified(member: string, cert: string): boolean;
  /** Does one of the member's trusted keys hold admin authority? */
  isAdminMember(member: string): boolean;
  /** The resource's lockout, if one was ever set. */
  lockout(resource: string): LockoutValue | undefined;
  /** The node with public key `key`, if ever enrolled (retired or not). */
  node(key: string): NodeValue | undefined;
}

/** What the reducer keeps of an access event: enough to judge whether it counts. */
export interface EventRef {
  hash: string;
  author: string;
  seq: number;
  resource: string;
}
