/**
 * Why a tap was allowed or refused: a closed set, so an access event's reason is one of these
 * codes and nothing else (the sentence for people is looked up, never stored).
 */
import { z } from 'zod';

export const DECISION_REASONS = {
  ALLOWED: 'allowed',
  ALLOWED_ADMIN_STALE_RULES: 'allowed: admin, although the rules on this node are stale',
  NODE_NOT_ENROLLED: 'this reader is not enrolled for this resource, or was retired; it decides nothing until an admin enrols it',
  UNKNOWN_RESOURCE: 'this reader is set up for a resource the rules do not know; an admin must add it',
  UNKNOWN_CARD: 'card is not enrolled; ask an admin to enrol it',
  CARD_UNBOUND: 'card was withdrawn (lost or returned); ask an admin for a new one',
  CARD_CONFLICT: 'card was bound to two members at once; it opens nothing until an admin resolves the conflict',
  UNKNOWN_MEMBER: 'card belongs to a member the rules do not know; an admin must fix the member record',
  MEMBER_SUSPENDED: 'membership is suspended; talk to an admin',
  MEMBERSHIP_EXPIRED: 'membership has expired; renew it with an admin',
  RULES_STALE: 'this machine has not received rule updates for too long; only admins may use it until it syncs',
  NOT_CERTIFIED: 'not certified for this machine; ask a trainer for an induction',
  OUTSIDE_SCHEDULE: 'outside the opening hours of this resource',
  LOCKED_OUT: 'this machine is locked out; an admin must lift the lockout',
  LOCKOUT_PENDING: 'this machine is being locked out: the current session may finish, no new one starts',
} as const;

export type DecisionReason = keyof typeof DECISION_REASONS;
export const DecisionReason = z.enum(Object.keys(DECISION_REASONS) as [DecisionReason, ...DecisionReason[]]);
