// `--once`: one badge at each node through its panel, and one through `keymesh-edge tap` as a
// person would type it; each answer must be the expected decision and show on that panel.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MEMBERS } from './cast.mjs';
import { findBadge, panelStatus, tapAndDescribe } from './taps.mjs';

const run = promisify(execFile);
const EDGE_BIN = fileURLToPath(new URL('../../packages/edge-agent/bin/keymesh-edge.js', import.meta.url));
const member = (id) => MEMBERS.find((m) => m.id === id);

/** [who, where, allowed?, how]: an allowed door, an allowed machine session, a refusal, and the CLI. */
const PLAN = [
  ['ada', 'door', true, 'prompt'],
  ['ada', 'laser', true, 'prompt'],
  ['margaret', 'cnc', false, 'prompt'],
  ['grace', 'cnc', true, 'keymesh-edge tap'],
];

export async function runOnce(agents, say) {
  let ok = true;
  for (const [who, where, expect, how] of PLAN) {
    const a = agents.find((x) => x.node.id === where);
    const m = member(who);
    let allowed;
    if (how === 'prompt') {
      const r = await tapAndDescribe(a.panel, findBadge(who), a.node);
      say(`tap ${who} ${where}: ${r.text}`);
      allowed = r.ok;
    } else {
      const argv = [EDGE_BIN, 'tap', m.uid, '--panel', a.panel];
      const r = await run(process.execPath, argv, { timeout: 20_000 }).catch((err) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? err.message }));
      say(`keymesh-edge tap ${m.uid} --panel ${a.panel}: ${(r.stdout || r.stderr).trim()}`);
      allowed = r.stdout.startsWith('ALLOWED') ? true : r.stdout.startsWith('DENIED') ? false : undefined;
    }
    const s = await panelStatus(a.panel);
    const shows = s.lastDecision && s.lastDecision.allow === expect && (s.lastDecision.member === m.name || s.lastDecision.member === m.id);
    const good = allowed === expect && shows;
    ok &&= good;
    say(`${good ? 'ok  ' : 'FAIL'} ${a.node.name} panel shows: ${s.lastDecision ? `${s.lastDecision.allow ? 'allowed' : 'denied'} ${s.lastDecision.member}: ${s.lastDecision.message}` : 'no decision'} (expected ${expect ? 'allowed' : 'denied'} ${m.name})`);
  }
  say(ok ? '--once: every panel answered and shows its tap' : '--once: something did not go as expected (see FAIL above)');
  return ok;
}
