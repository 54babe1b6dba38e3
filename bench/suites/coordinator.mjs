// `npm run bench -- coordinator`: the coordinator as it runs (`Coordinator.start`, the embedded
// aedes broker on TCP, login tokens, the ledger's PubSubSync as a relay).
//   ingest_broker_per_s   10 enrolled edges, each holding 10,000 access decisions the
//                         coordinator lacks, connect over TCP and sync as edges do; entries
//                         stored per second from the edges' start until the coordinator holds
//                         them all (verify + store; DESIGN §12: over 20,000)
//   fanout_p99_ms         an edge publishes an entry live → an admin client subscribed to its
//                         feed receives it (1,000 entries, one every 5 ms)
//   bundle_upgrade_shipped_ratio  and the other bundle figures: bench/lib/bundle-upgrades.mjs
// The edges and the admin client run in a child process, so the coordinator's process is
// measured alone (the machine has 2 cores: one each).
import { fork } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
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

/** A site made by `keymesh init`, 10 edges enrolled, and one ledger file per edge holding every edge's `per` events. */
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
  const src = join(dir, 'edges.db');
  const l = Ledger.open(src, { site: init.site, now: () => NOW + 86_400_000, durability: 'process' });
  check(l.ingest(rules));
  let n = 0;
  for (const [a, key] of keys.entries()) {
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
    if (a % 5 === 4) log(`  signed ${n} / ${EDGES * per} edge entries`);
  }
  l.close();
  const paths = keys.map((_, a) => join(dir, `edge-${a}.db`));
  for (const p of paths) copyFileSync(src, p);
  return { init, keys, paths };
}

function child(cfg) {
  const p = fork(NODES_SCRIPT, [JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = (op, timeoutMs = 600_000) => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`the edges' process did not answer ${op} in time`)), timeoutMs);
    const on = (m) => m.op === op && (clearTimeout(t), p.off('message', on), resolve(m));
    p.on('message', on);
    p.once('exit', (code) => code && reject(new Error(`the edges' process exited with ${code}`)));
  });
  return { p, next };
}

const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

async function brokerParts({ per, fanoutCount, parts, log, metrics }) {
  const dir = mkdtempSync(join(tmpdir(), 'km-bench-coord-'));
  try {
    log(`building a site with ${EDGES} edges × ${per} entries`);
    const { init, keys, paths } = buildSite(dir, per, log);
    const c = await Coordinator.start({ data: init.paths.dir, mqttPort: 0, httpPort: 0, host: '127.0.0.1', syncIntervalMs: 1000, log: pino({ level: 'silent' }) });
    const { p, next } = child({ port: c.mqttPort, site: init.site, coordinator: c.key.publicKey, paths, keyIndices: keys.map((_, a) => KEY0 + a), adminSeed: toHex(init.daily.seed) });
    try {
      await next('ready');
      const total = EDGES * per;
      const held = () => keys.reduce((s, k) => s + (c.ledger.heads()[k.publicKey] ?? 0), 0);
      const t0 = performance.now();
      p.send({ op: 'start' });
      await next('started');
      if (parts.includes('ingest')) {
        let last = -1;
        let lastChange = performance.now();
        for (;;) {
          await new Promise((r) => setTimeout(r, 10));
          const h = held();
          if (h >= total) break;
          if (h !== last) (last = h), (lastChange = performance.now());
          if (performance.now() - lastChange > 60_000) throw new Error(`ingest stalled at ${h} of ${total}`);
        }
        const s = (performance.now() - t0) / 1000;
        log(`  ${total} entries from ${EDGES} edges in ${s.toFixed(2)} s (counters ${JSON.stringify({ ...c.sync.counters })})`);
        metrics.push({ name: 'ingest_broker_per_s', value: Math.round(total / s), unit: 'entries/s' });
        metrics.push({ name: 'ingest_broker_s', value: +s.toFixed(2), unit: 's' });
      }
      if (parts.includes('fanout')) {
        p.send({ op: 'fanout', count: fanoutCount, gapMs: 5 });
        const { latencies } = await next('fanout');
        if (latencies.length < fanoutCount) throw new Error(`fan-out: ${latencies.length} of ${fanoutCount} entries arrived`);
        log(`  fan-out of ${latencies.length}: p50 ${pct(latencies, 0.5).toFixed(2)} ms, p99 ${pct(latencies, 0.99).toFixed(2)} ms, max ${Math.max(...latencies).toFixed(2)} ms`);
        metrics.push({ name: 'fanout_p50_ms', value: +pct(latencies, 0.5).toFixed(2), unit: 'ms' });
        metrics.push({ name: 'fanout_p99_ms', value: +pct(latencies, 0.99).toFixed(2), unit: 'ms' });
      }
      p.send({ op: 'stop' });
      await next('stopped', 30_000).catch(() => p.kill('SIGKILL'));
    } finally {
      await c.stop();
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
  if (parts.includes('ingest') || parts.includes('fanout')) await brokerParts({ per: quick ? 1000 : 10_000, fanoutCount: quick ? 200 : 1000, parts, log, metrics });
  if (parts.includes('bundles')) {
    const { bundleUpgrades } = await import('../lib/bundle-upgrades.mjs');
    metrics.push(...(await bundleUpgrades(quick ? ['--quick'] : [], log)));
  }
  if (!quick && partArg < 0) {
    const byName = Object.fromEntries(metrics.map((m) => [m.name, m]));
    const row = (name, what, budget) => (byName[name] ? [{ ...byName[name], what, budget }] : []);
    recordRun('coordinator', {
      command: 'npm run bench -- coordinator', started, code: codeVersion(),
      rows: [
        ...row('ingest_broker_per_s', `${EDGES} enrolled edges with 10,000 access decisions each connect to the embedded broker over TCP (login tokens) and sync as edges do; entries verified and stored per second until the coordinator holds all 100,000`, { op: '>', limit: 20_000, text: 'over 20,000 entries/s' }),
        ...row('ingest_broker_s', 'that catch-up, from the edges\' start'),
        ...row('fanout_p50_ms', "an edge's live publish → an admin client subscribed to its feed (1,000 entries, one every 5 ms): median"),
        ...row('fanout_p99_ms', 'the same, p99'),
        ...metrics.filter((m) => m.name.startsWith('bundle_')).map((m) => ({ ...m, what: m.what ?? 'see the bundles section', ...(m.name === 'bundle_upgrade_shipped_ratio' ? { budget: { op: '<=', limit: 0.1, text: 'under 10 % of the bundle' } } : {}) })),
      ],
      notes: [`Load average (1 min, ${os.cpus().length} vCPUs): ${loadStart.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end.`],
    });
    log('wrote the recorded run into bench/RESULTS.md (coordinator section)');
  }
  return metrics.map(({ name, value, unit }) => ({ name, value, unit }));
}
