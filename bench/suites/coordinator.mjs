// `npm run bench -- coordinator`: the coordinator as it runs (`Coordinator.start`, the embedded
// aedes broker on TCP, login tokens, the ledger's PubSubSync as a relay).
//   ingest_broker_per_s   10 enrolled edges, logged in over TCP, each holding 10,000 access
//                         decisions the coordinator lacks (a site after an outage), sync as
//                         edges do: the coordinator asks each for its feed and stores the
//                         batches. Entries verified and stored per second from the edges'
//                         start until the coordinator holds them all (DESIGN §12: over 20,000)
//   fanout_p99_ms         an edge publishes an entry live → an admin client subscribed to its
//                         feed receives it (1,000 entries, one every 5 ms)
//   bundle_upgrade_shipped_ratio  and the other bundle figures: bench/lib/bundle-upgrades.mjs
// The edges and the admin client run in a child process, so the coordinator's process is
// measured alone (the machine has 2 cores: one each).
import { fork } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Ledger } from '@keymesh/ledger';
import { encodeEntry, signEntry, toHex } from '@keymesh/protocol';
import { Coordinator, initSite } from '@keymesh/coordinator';
import { testKey, resourceBody } from '@keymesh/testkit/site';
import { NOW, event } from '../lib/access-event.mjs';
import { codeVersion, recordRun } from '../lib/results-md.mjs';

export const describe = 'the coordinator: broker ingest from 10 edges, publish → admin fan-out latency, bundle upgrade sizes';

const USAGE = `npm run bench -- coordinator [--quick] [--part ingest|fanout|bundles]
  --quick  1,000 entries per edge and 200 fan-out messages (smoke run; RESULTS.md untouched)
  --part   only one part (RESULTS.md untouched)`;
const NODES_SCRIPT = fileURLToPath(new URL('../lib/coordinator-nodes.mjs', import.meta.url));
const EDGES = 10;
const KEY0 = 3000;

function check(r) {
  if (r.rejected.length || r.waiting) throw new Error(`source ledger: ${r.rejected.length} rejected, ${r.waiting} waiting: ${r.rejected[0]?.reason}`);
}

/** A site made by `keymesh init`, 10 edges enrolled, and one ledger file per edge holding the rules and its own `per` events. */
function buildSite(dir, per, log) {
  const init = initSite({ name: 'Bench Space', data: join(dir, 'data'), keysDir: join(dir, 'keys') });
  const keys = Array.from({ length: EDGES }, (_, a) => testKey(KEY0 + a));
  const c = Ledger.open(init.paths.ledger, { site: init.site });
  c.appendMany(init.daily, [
    { type: 'resource.put', body: resourceBody('door', { kind: 'door' }) },
    { type: 'resource.put', body: resourceBody('laser', { requiredCerts: ['laser'] }) },
    ...keys.map((k, a) => ({ type: 'node.enrol', body: { node: k.publicKey, name: `pi-${a}`, role: 'edge', resources: ['door', 'laser'] } })),
  ]);
  const rules = Object.keys(c.heads()).flatMap((author) => c.readEncoded(author, 1, 1000));
  c.close();
  // Each edge holds the rules and its own feed, as a Pi that was offline does.
  const paths = keys.map((_, a) => join(dir, `edge-${a}.db`));
  let n = 0;
  for (const [a, key] of keys.entries()) {
    const l = Ledger.open(paths[a], { site: init.site, durability: 'process' });
    check(l.ingest(rules));
    let prev = null;
    let batch = [];
    for (let s = 1; s <= per; s++) {
      const i = a * per + s;
      const { entry, hash } = signEntry(key, { site: init.site, seq: s, prev, hlc: { wall: NOW + n++, logical: 0 }, type: 'access.decision', deps: [], body: event(i, `m${i % 5000}`) });
      batch.push(encodeEntry(entry));
      prev = hash;
      if (batch.length === 5000) (check(l.ingest(batch, { verify: 'batch' })), (batch = []));
    }
    if (batch.length) check(l.ingest(batch, { verify: 'batch' }));
    l.close();
    if (a % 5 === 4) log(`  signed ${n} / ${EDGES * per} edge entries`);
  }
  return { init, keys, paths };
}

function child(cfg) {
  const p = fork(NODES_SCRIPT, [JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  // The edges stand in for ten Pis elsewhere: on this machine they yield the CPU to the coordinator.
  if (!process.env.BENCH_EDGES_SAME_PRIORITY) os.setPriority(p.pid, 19);
  const next = (op, timeoutMs = 600_000) => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`the edges' process did not answer ${op} in time`)), timeoutMs);
    const on = (m) => m.op === op && (clearTimeout(t), p.off('message', on), resolve(m));
    p.on('message', on);
    p.once('exit', (code) => code && reject(new Error(`the edges' process exited with ${code}`)));
  });
  return { p, next };
}

/** BENCH_PROF=DIR: a CPU profile of the coordinator's process during the catch-up only (not the site's building). */
async function startProfile() {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop(dir) {
      const { profile } = await session.post('Profiler.stop');
      const file = join(dir, `coordinator-ingest-${Date.now()}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
      return file;
    },
  };
}

const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/** One catch-up of the site in `dir` (a copy: the coordinator's ledger and the edges' files change); then the fan-out when asked. */
async function once({ dir, site, per, fanoutCount, log }) {
  const { init, keys } = site;
  const paths = keys.map((_, a) => join(dir, `edge-${a}.db`));
  const c = await Coordinator.start({ data: join(dir, 'data'), mqttPort: 0, httpPort: 0, host: '127.0.0.1', syncIntervalMs: 1000, log: pino({ level: process.env.BENCH_LOG ?? 'silent' }, pino.destination(2)) });
  const { p, next } = child({ port: c.mqttPort, site: init.site, coordinator: c.key.publicKey, paths, keyIndices: keys.map((_, a) => KEY0 + a), adminSeed: toHex(init.daily.seed) });
  try {
    await next('ready');
    const total = EDGES * per;
    const held = () => { const hs = c.ledger.localHeads(); return keys.reduce((s, k) => s + (hs[k.publicKey] ?? 0), 0); };
    const prof = process.env.BENCH_PROF ? await startProfile() : null;
    p.send({ op: 'start' });
    await next('connected');
    const t0 = performance.now();
    await next('started');
    let last = -1;
    let lastChange = performance.now();
    const progress = []; // entries held after each second: shows the rounds
    let elu = performance.eventLoopUtilization();
    let mark = t0 + 1000;
    for (;;) {
      await new Promise((r) => setTimeout(r, 10));
      const h = held();
      if (performance.now() >= mark) {
        progress.push(h);
        mark += 1000;
        if (process.env.BENCH_DEBUG) {
          const u = performance.eventLoopUtilization(elu);
          elu = performance.eventLoopUtilization();
          let wal = 0;
          try { wal = statSync(join(dir, 'data', 'ledger.db-wal')).size; } catch {}
          log(`    ${h} held; WAL ${(wal / 2 ** 20).toFixed(0)} MiB; fsync ${JSON.stringify(c.ledger.durabilityStats)}; event loop busy ${(u.utilization * 100).toFixed(0)} %`);
        }
      }
      if (h >= total) break;
      if (h !== last) (last = h), (lastChange = performance.now());
      if (performance.now() - lastChange > 60_000) throw new Error(`ingest stalled at ${h} of ${total}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    log(`  ${total} entries from ${EDGES} edges in ${seconds.toFixed(2)} s (${Math.round(total / seconds)}/s; counters ${JSON.stringify({ ...c.sync.counters })}); held after each second: ${progress.join(', ')}`);
    if (prof) log(`  CPU profile of the catch-up: ${await prof.stop(process.env.BENCH_PROF)}`);
    let latencies = null;
    if (fanoutCount) {
      p.send({ op: 'fanout', count: fanoutCount, gapMs: 5 });
      latencies = (await next('fanout')).latencies;
      if (latencies.length < fanoutCount) throw new Error(`fan-out: ${latencies.length} of ${fanoutCount} entries arrived`);
    }
    p.send({ op: 'stop' });
    await next('stopped', 30_000).catch(() => p.kill('SIGKILL'));
    return { seconds, total, latencies };
  } finally {
    if (p.exitCode === null) p.kill('SIGKILL');
    await c.stop();
  }
}

/** The site is built once; each repetition runs on a fresh copy of it, and the median counts. */
async function brokerParts({ per, fanoutCount, reps, parts, log, metrics }) {
  const dir = mkdtempSync(join(tmpdir(), 'km-bench-coord-'));
  try {
    log(`building a site with ${EDGES} edges × ${per} entries`);
    const site = buildSite(join(dir, 'base'), per, log);
    const runs = [];
    for (let r = 0; r < reps; r++) {
      const copy = join(dir, `run-${r}`);
      cpSync(join(dir, 'base'), copy, { recursive: true });
      const last = r === reps - 1;
      runs.push(await once({ dir: copy, site, per, fanoutCount: last && parts.includes('fanout') ? fanoutCount : 0, log }));
      rmSync(copy, { recursive: true, force: true });
    }
    if (parts.includes('ingest')) {
      const rates = runs.map((r) => r.total / r.seconds).sort((a, b) => a - b);
      log(`  ingest rates of the ${reps} runs: ${rates.map((x) => Math.round(x)).join(', ')} entries/s`);
      metrics.push({ name: 'ingest_broker_per_s', value: Math.round(pct(rates, 0.5)), unit: 'entries/s' });
      metrics.push({ name: 'ingest_broker_min_per_s', value: Math.round(rates[0]), unit: 'entries/s' });
      metrics.push({ name: 'ingest_broker_max_per_s', value: Math.round(rates.at(-1)), unit: 'entries/s' });
    }
    const latencies = runs.at(-1).latencies;
    if (latencies) {
      log(`  fan-out of ${latencies.length}: p50 ${pct(latencies, 0.5).toFixed(2)} ms, p99 ${pct(latencies, 0.99).toFixed(2)} ms, max ${Math.max(...latencies).toFixed(2)} ms`);
      metrics.push({ name: 'fanout_p50_ms', value: +pct(latencies, 0.5).toFixed(2), unit: 'ms' });
      metrics.push({ name: 'fanout_p99_ms', value: +pct(latencies, 0.99).toFixed(2), unit: 'ms' });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(args, log) {
  if (args.includes('--help')) return console.log(USAGE);
  const quick = args.includes('--quick');
  const partArg = args.indexOf('--part');
  const parts = partArg >= 0 ? [args[partArg + 1]] : ['ingest', 'fanout', 'bundles'];
  const started = new Date();
  const loadStart = os.loadavg()[0];
  const metrics = [];
  if (parts.includes('ingest') || parts.includes('fanout')) await brokerParts({ per: quick ? 1000 : 10_000, fanoutCount: quick ? 200 : 1000, reps: quick ? 1 : 3, parts, log, metrics });
  if (parts.includes('bundles')) {
    const { bundleUpgrades } = await import('../lib/bundle-upgrades.mjs');
    // The headline figures; the chunk-size sweep behind them is in the bundles section of RESULTS.md.
    const keep = /^bundle_(upgrade_shipped_ratio(_npm|_project|_project_1)?|first_install_wire_ratio_project|synthetic_5pct_max_places_under_10pct_4_16_64)$/;
    metrics.push(...(await bundleUpgrades(quick ? ['--quick'] : [], log)).filter((m) => keep.test(m.name)));
  }
  if (!quick && partArg < 0) {
    const byName = Object.fromEntries(metrics.map((m) => [m.name, m]));
    const row = (name, what, budget) => (byName[name] ? [{ ...byName[name], what, budget }] : []);
    recordRun('coordinator', {
      command: 'npm run bench -- coordinator', started, code: codeVersion(),
      rows: [
        ...row('ingest_broker_per_s', `${EDGES} enrolled edges logged in over TCP (login tokens), each holding 10,000 access decisions the coordinator lacks, sync as edges do (PubSubSync, the coordinator asks, the edges send batches): entries verified and stored per second until the coordinator holds all 100,000`, { op: '>', limit: 20_000, text: 'over 20,000 entries/s' }),
        ...row('ingest_broker_min_per_s', 'the slowest of the three runs'),
        ...row('ingest_broker_max_per_s', 'the fastest'),
        ...row('fanout_p50_ms', "an edge's live publish → an admin client subscribed to its feed (1,000 entries, one every 5 ms): median"),
        ...row('fanout_p99_ms', 'the same, p99'),
        ...row('bundle_upgrade_shipped_ratio_npm', 'typescript 5.9.2 → 5.9.3 as an uncompressed tar: bytes on the wire over the bundle', { op: '<=', limit: 0.1, text: 'under 10 %' }),
        ...row('bundle_upgrade_shipped_ratio_project', 'this repository 20 commits apart as a tar with fixed mtimes (5.7 % new lines in 45 files)', { op: '<=', limit: 0.1, text: 'under 10 %' }),
        ...row('bundle_upgrade_shipped_ratio_project_1', 'the same, one commit apart'),
        ...row('bundle_upgrade_shipped_ratio', 'the worst real upgrade above', { op: '<=', limit: 0.1, text: 'under 10 %' }),
        ...row('bundle_first_install_wire_ratio_project', 'a first install: bytes on the wire over the bundle'),
        ...row('bundle_synthetic_5pct_max_places_under_10pct_4_16_64', '16 MiB, 5 % changed in N places: most N that stays under 10 %'),
      ],
      notes: [`Load average (1 min, ${os.cpus().length} vCPUs): ${loadStart.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end.`],
    });
    log('wrote the recorded run into bench/RESULTS.md (coordinator section)');
  }
  return metrics.map(({ name, value, unit }) => ({ name, value, unit }));
}
