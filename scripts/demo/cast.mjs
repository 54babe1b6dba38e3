// The demo site: who is in it, what they may do, and the three nodes. One place, so the setup,
// the badge list and the prompt all say the same thing.
//
// The card numbers here are made up and printed on purpose (to type at `keymesh-edge tap`):
// a real site never shows a card uid anywhere (DESIGN §3).

export const SITE_NAME = 'Demo Makerspace';

/** The three nodes: `id` is the resource and what the prompt calls it. */
export const NODES = [
  { id: 'door', node: 'front-door-pi', kind: 'door', resource: 'front-door', name: 'Front door', preferredPanelPort: 8481 },
  { id: 'laser', node: 'laser-pi', kind: 'machine', resource: 'laser', name: 'Laser cutter', requires: 'laser', preferredPanelPort: 8482 },
  { id: 'cnc', node: 'cnc-pi', kind: 'machine', resource: 'cnc', name: 'CNC router', requires: 'cnc', preferredPanelPort: 8483 },
];

export const PREFERRED_HTTP_PORT = 8480;
export const PREFERRED_MQTT_PORT = 18830;

/**
 * Six members with cards. `admin`: the member record carries the site's daily admin key, so the
 * rules count them as an admin (they may use a high-risk machine on stale rules).
 */
export const MEMBERS = [
  { id: 'ada', name: 'Ada Lovelace', uid: '0a0b0c0d', certs: ['laser'], may: 'door, laser cutter' },
  { id: 'grace', name: 'Grace Hopper', uid: '0a0b0c0e', certs: ['laser', 'cnc'], trainerFor: ['laser'], may: 'door, laser, CNC; trains on the laser' },
  { id: 'margaret', name: 'Margaret Hamilton', uid: '0a0b0c0f', certs: [], may: 'door only (no machine yet: train her on the laser)' },
  { id: 'sam', name: 'Sam Admin', uid: '0a0b0c10', certs: ['cnc'], admin: true, may: 'door, CNC router; the site admin' },
  { id: 'alan', name: 'Alan Turing', uid: '0a0b0c11', certs: ['laser'], suspended: true, may: 'nothing: suspended' },
  { id: 'hedy', name: 'Hedy Lamarr', uid: '0a0b0c12', certs: ['cnc'], expires: '2025-01-31', may: 'nothing: membership expired 2025-01-31' },
];

/** A badge nobody owns: shows an unknown-card denial. */
export const UNKNOWN_CARD = { label: 'Unknown card', uid: '0badc0de', may: 'nothing: no member has it' };

export function badgeLabel(m) {
  return `${m.name.split(' ')[0]} (${m.id})`;
}

/** Every demo badge as the agents' `simCards` list it. */
export function simCards() {
  return [...MEMBERS.map((m) => ({ label: badgeLabel(m), uid: m.uid })), { label: UNKNOWN_CARD.label, uid: UNKNOWN_CARD.uid }];
}
