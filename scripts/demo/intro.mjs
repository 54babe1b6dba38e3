// What the demo prints once everything is up: where to look, the badges, how to tap, how to stop.
import { relative, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MEMBERS, NODES, UNKNOWN_CARD, badgeLabel } from './cast.mjs';

/** A path as short as it can be written from here. */
export function shown(p) {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : p;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How to run a workspace bin from here: npx finds it only inside the repository. */
function bin(name, file) {
  const inside = !relative(ROOT, process.cwd()).startsWith('..');
  return inside ? `npx ${name}` : `node ${resolve(ROOT, file)}`;
}

export function printIntro({ paths, marker, coordinator, agents, dashboard, prompt }) {
  const edge = bin('keymesh-edge', 'packages/edge-agent/bin/keymesh-edge.js');
  const keymesh = bin('keymesh', 'packages/coordinator/bin/keymesh.js');
  const panel = (id) => agents.find((a) => a.node.id === id).panel;
  const w = Math.max(...NODES.map((n) => n.name.length), 'Coordinator'.length) + 2;
  const lines = [
    '',
    `Keymesh demo: "${marker.siteName}" is running.`,
    '',
    `  ${'Coordinator'.padEnd(w)}${coordinator.http}   (MQTT broker ${coordinator.mqtt}; GET ${coordinator.http}api/status)`,
    `  ${'Dashboard'.padEnd(w)}${dashboard}`,
    `  ${''.padEnd(w)}(the admin's page; this link signs the demo admin in with a key made for the page, on this machine only)`,
    ...NODES.map((n) => `  ${n.name.padEnd(w)}${panel(n.id)}   (panel: open it in a browser, tap the badges there)`),
    '',
    'Demo badges (card numbers are made up; a real site never shows one):',
    ...MEMBERS.map((m) => `  ${badgeLabel(m).padEnd(20)}${m.uid}   ${m.name}: ${m.may}`),
    `  ${UNKNOWN_CARD.label.padEnd(20)}${UNKNOWN_CARD.uid}   ${UNKNOWN_CARD.may}`,
    '',
    'Tap from another terminal:',
    `  ${edge} tap ${MEMBERS[0].uid} --panel ${panel('laser')}      # Ada at the laser cutter: allowed`,
    `  ${edge} tap ${MEMBERS[2].uid} --panel ${panel('cnc')}      # Margaret at the CNC router: not certified`,
    '',
    'Admin commands go through the running coordinator, e.g.:',
    `  ${keymesh} member suspend ada --data ${shown(paths.site)} --key ${shown(marker.adminKey)}`,
    `  ${keymesh} log --data ${shown(paths.site)}          # the access log`,
    '',
    `Logs: ${shown(paths.logs)}/   Data: ${shown(paths.dir)}/ (kept for the next run; --reset starts afresh)`,
  ];
  if (prompt) {
    lines.push(
      '',
      'Type at the prompt: tap ada laser | tap margaret cnc | tap 0a0b0c0d door | tap unknown door',
      '  status | badges | help | quit',
      '  trainer: tap grace laser, then within 30 s tap margaret laser (she is certified; she taps again to start)',
      'Ctrl-C or quit stops the agents (outputs safe), then the coordinator.',
    );
  } else {
    lines.push('', 'Stop with Ctrl-C (SIGINT): the agents first (outputs safe), then the coordinator.');
  }
  console.log(lines.join('\n') + '\n');
}

export function printBadges() {
  console.log(MEMBERS.map((m) => `  ${m.id.padEnd(10)}${m.uid}  ${m.name}: ${m.may}`).concat(`  ${'unknown'.padEnd(10)}${UNKNOWN_CARD.uid}  ${UNKNOWN_CARD.may}`).join('\n'));
}
