// The edge agent of the edge suite, in a process of its own (so its RSS and its event loop are
// its own): `new Agent({ config, log })` and `start()`, as `keymesh-edge run` does, on a data
// folder the suite enrolled, with sim devices and its log on stdout (the suite sends it to
// /dev/null, as journald would take it).
//   node bench/lib/edge-agent-child.mjs '{"mode":"taps","data":DIR,"broker":URL}'   (IPC below)
//   node bench/lib/edge-agent-child.mjs '{"mode":"open","data":DIR,"broker":URL}'   prints one JSON line
// Taps mode, messages from the parent:
//   { op: 'taps', kind, n, seed }  taps n cards (edge-taps.mjs) through the agent's Taps.read,
//                                   timing each from the read's entry to the first write call
//                                   on an output (performance.now() hooks on the outputs' write;
//                                   no product code changed); replies { op: 'tapped', … }
//   { op: 'stop' }                  agent.stop(), replies { op: 'stopped' }, exits
const t0 = performance.now();
const { Agent } = await import('@keymesh/edge-agent/agent/agent');
const { parseConfig } = await import('@keymesh/edge-agent/config/load');
const { createLogger } = await import('@keymesh/edge-agent/log');
const { PerformanceObserver, monitorEventLoopDelay } = await import('node:perf_hooks');
const { readFileSync, writeFileSync } = await import('node:fs');
const { join } = await import('node:path');
const { EXPECT, tapPlan } = await import('./edge-taps.mjs');
const { uidOf } = await import('./edge-site.mjs');
const importedMs = performance.now() - t0;

const cfg = JSON.parse(process.argv[2]);
const mb = (b) => b / 2 ** 20;

function agentConfig(kind) {
  const sim = { driver: 'sim' };
  return parseConfig({
    data: cfg.data,
    broker: { url: cfg.broker },
    panel: { host: '127.0.0.1', port: 0 },
    log: { level: 'info' },
    devices: {
      reader: sim, relay: sim, greenLed: sim, redLed: sim, buzzer: sim,
      ...(kind === 'door' ? { doorSensor: sim, exitButton: sim } : {}),
    },
  }, 'bench edge config', process.cwd());
}

async function openAgent(kind) {
  const config = agentConfig(kind);
  const log = createLogger({ level: config.log.level });
  const s = performance.now();
  const agent = new Agent({ config, log });
  await agent.start();
  return { agent, startMs: performance.now() - s };
}

if (cfg.mode === 'open') {
  // With the broker refusing connections, start() rejects (a subscribe of the sync fails when
  // the connection closes; reported to the lead) after the agent is up and deciding: the open
  // is timed to the start's last local step (trace 'panel': replica open, controller safe,
  // taps wired, panel listening), and how start() ended is reported beside it.
  const config = agentConfig(cfg.kind ?? 'door');
  const steps = {};
  const s = performance.now();
  const agent = new Agent({ config, log: createLogger({ level: config.log.level }), trace: (step) => (steps[step] = performance.now() - s) });
  let startError = null;
  try {
    await agent.start();
  } catch (err) {
    startError = String(err?.message ?? err).slice(0, 200);
  }
  const settledMs = performance.now() - s;
  const rssMb = mb(process.memoryUsage().rss);
  await agent.stop();
  process.stdout.write(JSON.stringify({ startMs: steps.panel ?? NaN, steps, settledMs, startError, importedMs, processMs: s + (steps.panel ?? NaN), rssMb }) + '\n');
  process.exit(0);
}

const { agent, startMs } = await openAgent(cfg.kind);
for (let waited = 0; !agent.connection?.connected && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
process.send({ op: 'ready', startMs, importedMs, connected: agent.connection?.connected ?? false, rssMb: mb(process.memoryUsage().rss) });

/** Hooks: the first write call on an output after a read entered, and the reason decide() gave. */
const probe = { on: false, at: 0, output: null, value: null, reason: null };
for (const name of ['relay', 'greenLed', 'redLed']) {
  const o = agent.devices[name];
  if (!o) continue;
  const write = o.write;
  o.write = function (on) {
    if (probe.on && probe.output === null) (probe.at = performance.now()), (probe.output = name), (probe.value = on);
    return write.call(this, on);
  };
}
const decision = agent.view.decision;
agent.view.decision = function (d) {
  if (probe.on) probe.reason = d.reason;
  return decision.call(this, d);
};

async function runTaps({ kind, n, seed, profileDir }) {
  const taps = agent['taps'];
  const plan = tapPlan(kind, n, seed).map((t) => ({ ...t, uid: uidOf(t.label) }));
  const relayMs = new Float64Array(n);
  const syncMs = new Float64Array(n); // read → Taps.read returns (the entry appended too)
  const waitMs = new Float64Array(n); // due → the tap ran (event-loop wait, plus timer slack)
  const startAt = new Float64Array(n);
  const kinds = [];
  const wrong = [];
  const filtered = {};
  const gcs = [];
  const gcObs = new PerformanceObserver((list) => { for (const e of list.getEntries()) gcs.push([e.startTime, e.duration, e.detail?.kind]); });
  gcObs.observe({ entryTypes: ['gc'] });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  let session = null;
  if (profileDir) {
    const { Session } = await import('node:inspector/promises');
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
  }
  delay.enable();
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  let at = Date.now();
  for (let i = 0; i < n; i++) {
    const t = plan[i];
    const due = performance.now() + t.gapMs;
    await new Promise((r) => (t.gapMs === 0 ? setImmediate(r) : setTimeout(r, t.gapMs)));
    at += t.stepMs;
    probe.output = null;
    probe.reason = null;
    probe.on = true;
    const s = performance.now();
    const result = taps.read(t.uid, at);
    const e = performance.now();
    probe.on = false;
    waitMs[i] = s - due;
    startAt[i] = s;
    syncMs[i] = e - s;
    relayMs[i] = probe.output ? probe.at - s : NaN;
    kinds.push(t.kind);
    if (result !== 'tap') filtered[result] = (filtered[result] ?? 0) + 1;
    const x = EXPECT[t.kind];
    if (result === 'tap' && (probe.output !== x.output || (x.reasons.length && !x.reasons.includes(probe.reason)))) wrong.push(`${t.kind}: ${probe.output} ${probe.reason}`);
    if (i % 1000 === 999) process.send({ op: 'progress', done: i + 1 });
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  delay.disable();
  gcObs.disconnect();
  let profile = null;
  if (session) {
    const r = await session.post('Profiler.stop');
    profile = join(profileDir, `edge-${kind}-${Date.now()}.cpuprofile`);
    writeFileSync(profile, JSON.stringify(r.profile));
    session.disconnect();
  }
  // Which slow taps a garbage collection overlapped (the tap's span, from its start).
  let slow = 0;
  let slowWithGc = 0;
  for (let i = 0; i < n; i++) {
    if (!(relayMs[i] > 1)) continue;
    slow++;
    const a = startAt[i];
    const b = a + relayMs[i];
    if (gcs.some(([gs, gd]) => gs < b && gs + gd > a)) slowWithGc++;
  }
  const rss = process.memoryUsage();
  // Where the RSS is: anonymous (heaps, SQLite's caches, threads' stacks) or file pages (node's own code, mapped libraries).
  const status = Object.fromEntries([...readFileSync('/proc/self/status', 'utf8').matchAll(/^(VmRSS|RssAnon|RssFile|RssShmem|Threads):\s+(\d+)/gm)].map((x) => [x[1], Number(x[2])]));
  return {
    memory: { heapTotalMb: mb(rss.heapTotal), externalMb: mb(rss.external), arrayBuffersMb: mb(rss.arrayBuffers), anonMb: (status.RssAnon ?? 0) / 1024, fileMb: (status.RssFile ?? 0) / 1024, threads: status.Threads },
    op: 'tapped', seconds, relayMs: [...relayMs], syncMs: [...syncMs], waitMs: [...waitMs], kinds,
    wrong: wrong.slice(0, 20), wrongCount: wrong.length, filtered,
    loopDelayP99Ms: delay.percentile(99) / 1e6, loopDelayMaxMs: delay.max / 1e6,
    cpuS: (cpu.user + cpu.system) / 1e6,
    gcCount: gcs.length, gcMaxMs: Math.max(0, ...gcs.map((g) => g[1])),
    slowCount: slow, slowWithGc,
    rssMb: mb(rss.rss), heapMb: mb(rss.heapUsed), maxRssMb: process.resourceUsage().maxRSS / 1024,
    head: agent.ledger.heads()[agent.key.publicKey],
    profile,
  };
}

process.on('message', async (m) => {
  if (m.op === 'taps') process.send(await runTaps(m));
  else if (m.op === 'stop') {
    await agent.stop();
    process.send({ op: 'stopped' });
    process.exit(0);
  }
});
