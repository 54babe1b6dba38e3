/**
 * The panel's status as lines for a character LCD (a `Display`: 16x2, 20x4, any size). Pure:
 * the agent calls it on each change and each second while a session timer runs.
 *
 *   16x2  "Laser: in use   "      20x4  "Laser cutter: in use"
 *         "Ada         4:07"            "Ada Lovelace    4:07"
 *                                       "DENIED: not cert    "
 *                                       "online  rules 2 min "
 *
 * On a 2-row display the second row shows, most urgent first: a fresh decision or message, an
 * alarm, the session (member and timer), offline or stale rules, else "tap badge".
 */
import type { PanelSnapshot } from './model.js';
import { clockDuration, humanDuration, shortReason, stateWords } from './words.js';

export interface LcdSize {
  columns: number;
  rows: number;
}

/** How long a decision or message stays on the display after it happened. */
export const LCD_RECENT_MS = 8_000;

/** Text an HD44780 can show: accents dropped, anything else outside printable ASCII becomes '?'. */
export function lcdText(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/gu, '?');
}

/** `left` and `right` on one line of `width`, `left` cut to make room (`right` wins). */
function spread(left: string, right: string, width: number): string {
  if (right.length >= width) return right.slice(0, width);
  const room = width - right.length - (left && right ? 1 : 0);
  const l = left.slice(0, Math.max(0, room)).trimEnd();
  return l + ' '.repeat(width - l.length - right.length) + right;
}

/** "Laser: in use", the resource's name cut first so the state stays whole. */
function titleLine(s: PanelSnapshot, width: number): string {
  const state = stateWords(s.state);
  const room = width - state.length - 2;
  if (room < 3) return state;
  return `${s.node.resource.name.slice(0, room).trimEnd()}: ${state}`;
}

/** The newest decision or message younger than LCD_RECENT_MS, as a line; null when none. */
function eventLine(s: PanelSnapshot, now: number): string | null {
  const d = s.lastDecision && now - s.lastDecision.at < LCD_RECENT_MS ? s.lastDecision : null;
  const m = s.lastMessage && now - s.lastMessage.at < LCD_RECENT_MS ? s.lastMessage : null;
  if (m && (!d || m.at > d.at)) return m.text;
  if (!d) return null;
  if (!d.allow) return `DENIED: ${shortReason(d.reason)}`;
  return d.member ? `OK: ${d.member}` : 'OK';
}

function sessionLine(s: PanelSnapshot, now: number, width: number): string | null {
  if (!s.member) return null;
  const timer = s.sessionStartedAt === null ? '' : clockDuration(now - s.sessionStartedAt);
  return spread(s.member.name, timer, width);
}

function rulesWords(s: PanelSnapshot, now: number): string {
  if (s.rulesStale) return 'rules stale';
  if (s.rulesFreshAt === null) return 'never synced';
  return `rules ${humanDuration(now - s.rulesFreshAt)}`;
}

function statusLine(s: PanelSnapshot, now: number, width: number): string {
  return spread(s.online ? 'online' : 'OFFLINE', rulesWords(s, now), width);
}

function secondLine(s: PanelSnapshot, now: number, width: number): string {
  const event = eventLine(s, now);
  if (event) return event;
  if (s.alarms.length) return `! ${s.alarms[0]}`;
  const session = sessionLine(s, now, width);
  if (session) return session;
  if (s.rulesStale) return 'rules stale';
  if (!s.online) return 'offline';
  return s.state === 'locked_out' ? 'out of use' : 'tap badge';
}

/** The snapshot with every text it shows made LCD-safe first (so the layout counts what is shown). */
function lcdSafe(s: PanelSnapshot): PanelSnapshot {
  return {
    ...s,
    node: { ...s.node, resource: { ...s.node.resource, name: lcdText(s.node.resource.name) } },
    member: s.member && { ...s.member, name: lcdText(s.member.name) },
    lastDecision: s.lastDecision && { ...s.lastDecision, member: s.lastDecision.member === null ? null : lcdText(s.lastDecision.member) },
    lastMessage: s.lastMessage && { ...s.lastMessage, text: lcdText(s.lastMessage.text) },
    alarms: s.alarms.map(lcdText),
  };
}

/** Exactly `size.rows` lines of exactly `size.columns` characters (padded, so a display that does not clear shows no leftovers). */
export function lcdLines(snapshot: PanelSnapshot, size: LcdSize, now: number): string[] {
  const s = lcdSafe(snapshot);
  const width = Math.max(1, Math.floor(size.columns));
  const rows = Math.max(1, Math.floor(size.rows));
  let lines: string[];
  if (rows < 3) {
    lines = [titleLine(s, width), secondLine(s, now, width)];
  } else {
    const third = eventLine(s, now) ?? (s.alarms.length ? `! ${s.alarms.join(', ')}` : '');
    lines = [titleLine(s, width), sessionLine(s, now, width) ?? (s.state === 'locked_out' ? 'out of use' : 'tap badge'), third, statusLine(s, now, width)];
  }
  const out: string[] = [];
  for (let i = 0; i < rows; i++) out.push((lines[i] ?? '').slice(0, width).padEnd(width, ' '));
  return out;
}
