// `npm run bench -- dashboard`: the dashboard (packages/dashboard) in Debian's Chromium
// (playwright-core, --no-sandbox), served by a real `keymesh serve`, with two sim edge agents
// (`keymesh-edge run`: a door and a laser cutter) connected to its broker (bench/lib/dashboard-site.mjs).
// Timed in the browser on the machine's one wall clock (bench/lib/dashboard-measure.mjs):
//   tap_to_live_row_*_ms   a sim tap sent to an edge's panel → its row inserted in the page's
//                          live log (MutationObserver); ~100 taps over both edges (DESIGN §12: under 1 s)
//   suspend_to_deny_*_ms   "Suspend" clicked in the page → every online edge's first
//                          MEMBER_SUSPENDED decision for that member, the edges tapped in a loop;
//                          20 rounds of suspend/reinstate (DESIGN §12: under 1 s)
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopAll } from '@keymesh/testkit/processes';
import { signIn, startSite } from '../lib/dashboard-site.mjs';
import { suspendRounds, tapsToRows } from '../lib/dashboard-measure.mjs';
import { quantile } from '../lib/edge-taps.mjs';
import { codeVersion, recordRun } from '../lib/results-md.mjs';

export const describe = 'the dashboard in Chromium: a sim tap → its live-log row, a suspension clicked in the page → every edge denies';

const USAGE = `npm run bench -- dashboard [--quick]
  --quick   20 taps and 4 suspend rounds (smoke run; RESULTS.md untouched)`;

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const spread = (xs) => `p50 ${fmt(quantile(xs, 0.5))} ms, p99 ${fmt(quantile(xs, 0.99))} ms, max ${fmt(Math.max(...xs))} ms`;

export async function run(args, log) {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return null;
  }
  const quick = args.includes('--quick');
  const taps = quick ? 20 : 100;
  const rounds = quick ? 4 : 20;
  const started = new Date();
  const code = codeVersion();
  const loadStart = os.loadavg()[0];
  const dir = mkdtempSync(join(tmpdir(), 'keymesh-bench-dashboard-'));
  let browser = null;
  let tapMs;
  let sus;
  let pageErrors;
  try {
    const { site, coord, edges } = await startSite(dir, log);
    const signed = await signIn(coord, site);
    browser = signed.browser;
    pageErrors = signed.errors;
    log(`signed in at ${coord.http} with the page's own key; ${taps} taps over ${edges.length} edges…`);
    tapMs = await tapsToRows(signed.page, edges, taps, log);
    log(`  tap → live row: ${spread(tapMs)}`);
    log(`${rounds} rounds of suspend → both edges deny → reinstate → both allow…`);
    sus = await suspendRounds(signed.page, edges, rounds, log);
    log(`  suspend → every edge denies: ${spread(sus.suspend)}; poll gap before the deny max ${fmt(Math.max(...sus.gaps))} ms`);
    log(`  reinstate → every edge allows: ${spread(sus.reinstate)}`);
    if (pageErrors.length) throw new Error(`the page threw: ${pageErrors.slice(0, 3).join('; ')}`);
  } finally {
    await browser?.close();
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
  const metrics = [];
  const m = (name, value, unit) => metrics.push({ name, value: Math.round(value * 10) / 10, unit });
  const three = (prefix, xs) => {
    m(`${prefix}_p50_ms`, quantile(xs, 0.5), 'ms');
    m(`${prefix}_p99_ms`, quantile(xs, 0.99), 'ms');
    m(`${prefix}_max_ms`, Math.max(...xs), 'ms');
  };
  three('tap_to_live_row', tapMs);
  m('taps', tapMs.length, 'taps');
  three('suspend_to_deny', sus.suspend);
  m('suspend_poll_gap_max_ms', Math.max(...sus.gaps), 'ms');
  three('reinstate_to_allow', sus.reinstate);
  m('suspend_rounds', sus.suspend.length, 'rounds');
  m('machine_load_avg', os.loadavg()[0], 'runnable');
  if (!quick) {
    const v = Object.fromEntries(metrics.map((x) => [x.name, x]));
    const row = (name, what, budget) => ({ ...v[name], what, budget });
    const under1s = { op: '<=', limit: 999.9, text: 'under 1 s' };
    const misses = recordRun('dashboard', {
      command: 'npm run bench -- dashboard', started, code, machineExtra: 'Debian Chromium (playwright-core, --no-sandbox)',
      rows: [
        row('tap_to_live_row_p50_ms', `${tapMs.length} sim taps (Ada and Bob in turn at the door and the laser cutter, 150–400 ms apart), each from the bench's \`Date.now()\` as it posts the tap to the edge's panel to the page's \`Date.now()\` when a MutationObserver sees the row inserted in the live log; median`),
        row('tap_to_live_row_p99_ms', 'the same, p99', under1s),
        row('tap_to_live_row_max_ms', 'the same, slowest'),
        row('suspend_to_deny_p50_ms', `${sus.suspend.length} rounds: "Suspend" clicked on Ada in the page (a capture click listener's \`Date.now()\`) → the later of the two edges' first MEMBER_SUSPENDED decision for her (the edge's own \`Date.now()\` of that decision; the bench taps each edge with her cards about every 20 ms); median`),
        row('suspend_to_deny_p99_ms', 'the same, p99', under1s),
        row('suspend_to_deny_max_ms', 'the same, slowest'),
        row('suspend_poll_gap_max_ms', 'the widest gap between an edge\'s last allowed poll and its first denied one: how far the figure above may overstate the moment the edge began to deny'),
        row('reinstate_to_allow_p99_ms', '"Reinstate" clicked → both edges allow her again, p99'),
      ],
      notes: [
        'The page, the bench, `keymesh serve` and both `keymesh-edge run` processes run on this one machine, so their `Date.now()` is one clock (millisecond resolution).',
        `Load average (1 min, ${os.cpus().length} vCPUs, shared with other work): ${loadStart.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end.`,
      ],
    });
    log(`wrote the recorded run into bench/RESULTS.md (dashboard section); ${misses.length} misses`);
  }
  return metrics;
}
