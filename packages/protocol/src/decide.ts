/**
 * decide(state, credential, resource, now, { node }): the access decision at the edge (DESIGN
 * §6). Pure: it reads only the local replica, so a tap never waits on the network. Every
 * outcome has a stable reason code and a sentence a member or an admin understands. A node
 * that is not enrolled for the resource, or was retired, decides nothing.
 */
import type { Credential } from './schemas/bodies.js';
import type { PolicyView } from './policy/state.js';
import type { ResourceValue } from './policy/values.js';
import { DECISION_REASONS, type DecisionReason } from './schemas/decision.js';

export interface Decision {
  allow: boolean;
  reason: DecisionReason;
  /** A sentence for the panel, the log and the dashboard. */
  message: string;
  member: string | null;
  /** Certifications missing, for NOT_CERTIFIED. */
  missing?: string[];
}

export interface DecideContext {
  /** The deciding node's public key: it must be enrolled for the resource and not retired. */
  node: string;
  /** When this replica last received rules from the network (ms); null/undefined: never. */
  rulesSyncedAt?: number | null;
}

/** Is `node` enrolled for `resourceId` and not retired (a replaced key counts as retired)? */
export function nodeMayDecide(state: PolicyView, node: string, resourceId: string): boolean {
  const n = state.node(node);
  return !!n && !n.retired && n.resources.includes(resourceId);
}

function outcome(allow: boolean, reason: DecisionReason, member: string | null, extra: Partial<Decision> = {}): Decision {
  return { allow, reason, message: DECISION_REASONS[reason], member, ...extra };
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** Day of week (0 = Sunday) and minute of day at `now` in `timezone`. */
export function localTime(now: number, timezone: string): { day: number; minute: number } {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' });
    formatters.set(timezone, f);
  }
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const p of f.formatToParts(now)) {
    if (p.type === 'weekday') day = WEEKDAYS[p.value] ?? 0;
    else if (p.type === 'hour') hour = Number(p.value);
    else if (p.type === 'minute') minute = Number(p.value);
  }
  return { day, minute: hour * 60 + minute };
}

export function insideSchedules(r: ResourceValue, now: number): boolean {
  return r.schedules.every((s) => {
    const t = localTime(now, s.timezone);
    return s.windows.some((w) => w.days.includes(t.day) && t.minute >= w.from && t.minute < w.to);
  });
}

export function rulesAreStale(r: ResourceValue, now: number, ctx: Pick<DecideContext, 'rulesSyncedAt'>): boolean {
  if (r.maxStaleHours === null || r.risk !== 'high') return false;
  const synced = ctx.rulesSyncedAt;
  return synced === null || synced === undefined || now - synced > r.maxStaleHours * 3_600_000;
}

export function decide(state: PolicyView, credential: Credential, resourceId: string, now: number, ctx: DecideContext): Decision {
  if (!nodeMayDecide(state, ctx.node, resourceId)) return outcome(false, 'NODE_NOT_ENROLLED', null);
  const resource = state.resource(resourceId);
  if (!resource) return outcome(false, 'UNKNOWN_RESOURCE', null);
  const card = state.card(credential.card);
  if (!card) return outcome(false, 'UNKNOWN_CARD', null);
  if (card.state === 'unbound') return outcome(false, 'CARD_UNBOUND', null);
  if (card.state === 'conflict') return outcome(false, 'CARD_CONFLICT', null);
  const member = state.member(card.member);
  if (!member) return outcome(false, 'UNKNOWN_MEMBER', card.member);
  if (member.status === 'suspended') return outcome(false, 'MEMBER_SUSPENDED', member.member);
  if (member.validUntil !== null && now > member.validUntil) return outcome(false, 'MEMBERSHIP_EXPIRED', member.member);
  // A lockout stops everyone, admins included: it is how a machine is made safe.
  const lockout = state.lockout(resourceId)?.state;
  if (lockout === 'now') return outcome(false, 'LOCKED_OUT', member.member);
  if (lockout === 'when_idle') return outcome(false, 'LOCKOUT_PENDING', member.member);
  let staleButAdmin = false;
  if (rulesAreStale(resource, now, ctx)) {
    if (!state.isAdminMember(member.member)) return outcome(false, 'RULES_STALE', member.member);
    staleButAdmin = true;
  }
  const missing = resource.requiredCerts.filter((c) => !state.certified(member.member, c));
  if (missing.length) return outcome(false, 'NOT_CERTIFIED', member.member, { missing });
  if (!insideSchedules(resource, now)) return outcome(false, 'OUTSIDE_SCHEDULE', member.member);
  return outcome(true, staleButAdmin ? 'ALLOWED_ADMIN_STALE_RULES' : 'ALLOWED', member.member);
}
