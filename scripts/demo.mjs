#!/usr/bin/env node
// `npm run demo`: a demo makerspace on this machine. A coordinator and three sim edge agents
// (front door, laser cutter, CNC router) as child processes, a site with an admin, six members
// with badges, certifications and a trainer, in ./demo-data (kept between runs; --reset starts
// afresh). Prints the dashboard URL (its link signs the demo admin in), the panel URLs and the
// badges, then takes taps at its prompt. Ctrl-C or `quit` stops the agents first (their outputs
// go safe), then the coordinator.
// See scripts/demo/flags.mjs for the flags; the pieces are in scripts/demo/.
import { resolve, join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HELP, parseFlags } from './demo/flags.mjs';
import { demoPaths, readMarker, setUpSite } from './demo/setup.mjs';
import { leftRunning, logSays, serveRecordPath, agentRecordPath, tail } from './demo/processes.mjs';
import { startAgents, startCoordinator } from './demo/start.mjs';
import { printIntro } from './demo/intro.mjs';
import { runPrompt } from './demo/prompt.mjs';
import { runOnce } from './demo/once.mjs';
import { dashboardLink } from './demo/dashboard-key.mjs';
import { NODES } from './demo/cast.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const t0 = Date.now();
const say = (s) => console.log(`[demo ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${s}`);

let flags;
try {
  flags = parseFlags(process.argv.slice(2));
} catch (err) {
  console.error(`demo: ${err.message}\n\n${HELP}`);
  process.exit(2);
}
if (flags.help) {
  console.log(HELP);
  process.exit(0);
}

const paths = demoPaths(resolve(flags.data ?? join(root, 'demo-data')));
const children = { coordinator: null, agents: [] };
let stopping = null;

/** Agents first (SIGTERM: each drives its outputs safe, then stops), then the coordinator. */
async function stopAll(why) {
  stopping ??= (async () => {
    if (why) say(why);
    let ok = true;
    const running = children.agents.filter((a) => a.child.running);
    if (running.length) say(`stopping the agents (SIGTERM): ${running.map((a) => a.node.name).join(', ')}`);
    await Promise.all(children.agents.map(async (a) => {
      const r = await a.child.stop();
      // Said only when the agent's own log says it: it drives its outputs safe before it stops.
      const safe = logSays(a.child.logFile, 'stopped', a.child.logStart);
      const clean = r.code === 0 && !r.killed && safe;
      ok &&= clean;
      say(clean
        ? `${a.node.name} agent stopped (exit 0); its log says its outputs (relay, LEDs, buzzer) were driven to their safe state`
        : `${a.node.name} agent ended with ${r.killed ? 'SIGKILL after 15 s' : `exit ${r.code}`}${safe ? '' : ', and its log does not say its outputs went safe'}; its log: ${a.child.logFile}\n${tail(a.child.logFile)}`);
    }));
    if (children.coordinator) {
      const c = children.coordinator.child;
      if (c.running) say('stopping the coordinator (SIGTERM)');
      const r = await c.stop();
      const clean = r.code === 0 && !r.killed;
      ok &&= clean;
      say(clean ? 'coordinator stopped (exit 0)' : `coordinator ended with ${r.killed ? 'SIGKILL after 15 s' : `exit ${r.code}`}; its log: ${c.logFile}`);
    }
    return ok;
  })();
  return stopping;
}

function onSignal(signal) {
  // npm forwards the terminal's Ctrl-C as well: the second one changes nothing.
  if (stopping) return;
  stopAll(`${signal}: stopping everything`).then((ok) => process.exit(flags.once ? 1 : ok ? 0 : 1));
}
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, onSignal);

async function main() {
  // A run killed with SIGKILL leaves its children behind: two agents on one folder would fork its feed.
  const left = [serveRecordPath(paths.site), ...NODES.map((n) => agentRecordPath(paths.edge(n.id)))].map(leftRunning).filter((p) => p !== null);
  if (left.length) {
    console.error(`demo: an earlier demo is still running on ${paths.dir} (process ${left.join(', ')}). Stop it (Ctrl-C in its terminal, or \`kill ${left.join(' ')}\`), then run the demo again.`);
    return 1;
  }
  let marker = flags.reset ? null : readMarker(paths);
  if (marker) {
    say(`reusing the demo site in ${paths.dir} (set up ${marker.created}; everything already enrolled). \`npm run demo -- --reset\` starts afresh.`);
  } else {
    say(flags.reset ? `--reset: setting the demo site up afresh in ${paths.dir}` : `no demo site in ${paths.dir} yet: setting one up`);
    // Each in-process `keymesh` command adds an 'error' listener to stdout (its logger's pipe);
    // a CLI process runs one command, this one runs thirty.
    process.stdout.setMaxListeners(0);
    marker = await setUpSite(root, paths, say);
    say('demo site ready');
  }

  const anyPort = flags.once || flags.anyPort;
  children.coordinator = await startCoordinator(root, paths, { anyPort }, say);
  say(`coordinator up: HTTP ${children.coordinator.http}, MQTT ${children.coordinator.mqtt}`);
  // Before the agents start, so the rules they wait to hold already include this admin set.
  const dashboard = await dashboardLink(paths, marker, children.coordinator.http, say);
  // startAgents fills children.agents as it spawns, so a failure half way still stops them all.
  await startAgents(root, paths, children.coordinator, { anyPort }, say, children.agents);

  printIntro({ paths, marker, coordinator: children.coordinator, agents: children.agents, dashboard, prompt: flags.prompt });

  // A child that dies while the demo runs is reported, and the demo stops the rest.
  for (const c of [children.coordinator.child, ...children.agents.map((a) => a.child)]) {
    c.exited.then((code) => {
      if (!stopping) stopAll(`${c.name} exited unexpectedly (${code}); its log: ${c.logFile}\n${tail(c.logFile)}`).then(() => process.exit(1));
    });
  }

  if (flags.once) {
    const ok = await runOnce(children.agents, say);
    const stopped = await stopAll('--once: done; stopping everything');
    return ok && stopped ? 0 : 1;
  }
  if (flags.prompt) {
    // From a pipe too: `printf 'tap ada laser\nquit\n' | npm run demo` works.
    const why = await runPrompt(children.agents, () => stopping !== null);
    if (!stopping) return (await stopAll(why)) ? 0 : 1;
    return (await stopping) ? 0 : 1;
  }
  say('--no-prompt: running until SIGINT or SIGTERM');
  return new Promise(() => {}); // the signal handler exits
}

main().then(
  (code) => process.exit(code),
  async (err) => {
    console.error(`demo: ${err.message}`);
    if (children.coordinator || children.agents.length) await stopAll('stopping what was started');
    process.exit(1);
  },
);
