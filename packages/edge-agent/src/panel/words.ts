/**
 * The panel's words for states, reasons and durations, shared by the LCD (lcd-lines.ts) and
 * the web page: page-script.ts embeds these functions' compiled source in the page's script, so
 * each must stand alone (no imports, no module-level names in its body) and run in a browser.
 */

/** A duration as people say it: "12 s", "3 min", "1 h 05 min", "2 days". */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} days`;
}

/** A running timer: "4:07", "1:02:03" (hours only when there are some). */
export function clockDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60));
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${mm.padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** The node's state in a few words (NodeState['state']; an unknown value is shown as it is). */
export function stateWords(state: string): string {
  const words: Record<string, string> = {
    locked: 'locked',
    unlocked: 'unlocked',
    open: 'open',
    held_open: 'held open',
    forced: 'forced open',
    idle: 'free',
    in_use: 'in use',
    locked_out: 'locked out',
  };
  return words[state] ?? state.replace(/_/g, ' ');
}

/** A decision reason (DecisionReason code) in at most 12 characters, for a 16-column LCD. */
export function shortReason(reason: string): string {
  const words: Record<string, string> = {
    ALLOWED: 'ok',
    ALLOWED_ADMIN_STALE_RULES: 'admin,stale',
    NODE_NOT_ENROLLED: 'not enrolled',
    UNKNOWN_RESOURCE: 'no resource',
    UNKNOWN_CARD: 'unknown card',
    CARD_UNBOUND: 'card revoked',
    CARD_CONFLICT: 'card clash',
    UNKNOWN_MEMBER: 'who?',
    MEMBER_SUSPENDED: 'suspended',
    MEMBERSHIP_EXPIRED: 'expired',
    RULES_STALE: 'rules stale',
    NOT_CERTIFIED: 'not cert',
    OUTSIDE_SCHEDULE: 'closed now',
    LOCKED_OUT: 'locked out',
    LOCKOUT_PENDING: 'lockout',
  };
  return words[reason] ?? reason.toLowerCase().replace(/_/g, ' ').slice(0, 12);
}

/** A config name as words: "doorSensor" → "door sensor", "e_stop" → "e stop". */
export function nameWords(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase()
    .trim();
}
