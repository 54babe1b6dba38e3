// Taps from the terminal: what `tap WHO WHERE` at the demo's prompt means, and the panel calls
// behind it (the same endpoint `keymesh-edge tap` posts to).
import { MEMBERS, NODES, UNKNOWN_CARD, badgeLabel } from './cast.mjs';
import { getJson } from './processes.mjs';

/** WHERE: door | laser | cnc, or a resource id (front-door), or a node name. */
export function findNode(word) {
  const w = String(word ?? '').toLowerCase();
  return NODES.find((n) => n.id === w || n.resource === w || n.node === w) ?? null;
}

/**
 * WHO: a member id (ada), a first name, `unknown`, or a card number in hex (0a0b0c0d).
 * Returns the body for POST /api/sim/tap and who it is, or null.
 */
export function findBadge(word) {
  const w = String(word ?? '').toLowerCase();
  const m = MEMBERS.find((x) => x.id === w || x.name.split(' ')[0].toLowerCase() === w);
  if (m) return { body: { card: badgeLabel(m) }, who: `${m.name}'s badge` };
  if (w === 'unknown') return { body: { card: UNKNOWN_CARD.label }, who: 'an unknown card' };
  if (/^[0-9a-f]{2}([0-9a-f]{2}|[:-][0-9a-f]{2})*$/.test(w)) {
    const owner = MEMBERS.find((x) => x.uid === w.replace(/[:-]/g, ''));
    return { body: { uid: w }, who: owner ? `card ${w} (${owner.name}'s)` : `card ${w}` };
  }
  return null;
}

/** Posts a tap to a panel; { ok, message } as the agent answered, or throws with its error. */
export async function postTap(panelUrl, body) {
  const res = await fetch(new URL('api/sim/tap', panelUrl), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const j = await res.json().catch(() => null);
  if (!res.ok || !j || typeof j.ok !== 'boolean') throw new Error(j?.error ?? `the panel answered HTTP ${res.status}`);
  return j;
}

export function panelStatus(panelUrl) {
  return getJson(new URL('api/status', panelUrl));
}

/** One line about a panel's state: "Laser cutter: in use by Ada Lovelace (relay on)". */
export function describeStatus(s) {
  const relay = s.sim?.outputs?.find((o) => o.name === 'relay');
  const parts = [`${s.node.resource.name}: ${String(s.state).replace(/_/g, ' ')}`];
  if (s.member) parts.push(`by ${s.member.name}`);
  if (relay) parts.push(`(relay ${relay.on ? 'on' : 'off'})`);
  if (!s.online) parts.push('[offline]');
  if (s.alarms?.length) parts.push(`alarms: ${s.alarms.join(', ')}`);
  return parts.join(' ');
}

/** Taps and reports in words: "ALLOWED at the Laser cutter: Ada Lovelace's badge", then the panel's state. */
export async function tapAndDescribe(panelUrl, badge, node) {
  const before = Date.now() - 1000; // panel clock = this machine's clock; a little slack
  const r = await postTap(panelUrl, badge.body);
  let after = '';
  let note = '';
  try {
    const s = await panelStatus(panelUrl);
    after = describeStatus(s);
    // What the agent told people beside the decision (trainer flow: "margaret certified…").
    const text = s.lastMessage && s.lastMessage.at >= before ? s.lastMessage.text : '';
    if (text && !r.message.includes(text) && !/: (allowed|denied)$/.test(text)) note = `\n    panel says: ${text}`;
  } catch {
    after = '(the panel did not answer a status request)';
  }
  // The agent's message starts "allowed: …" / "denied: …"; the verdict is said once, in capitals.
  const why = r.message.replace(/^(allowed|denied):\s*/i, '');
  const said = why && !badge.who.includes(why) ? ` — ${why}` : '';
  return { ...r, text: `${r.ok ? 'ALLOWED' : 'DENIED'} at the ${node.name}: ${badge.who}${said}${note}\n    now: ${after}` };
}
