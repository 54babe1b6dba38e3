// `npm run bench -- sync`: PubSubSync (packages/ledger/src/sync/pubsub.ts) over the in-memory
// broker of @keymesh/testkit, as every node runs it.
//   sync_catchup_100k_s  100,000 entries (10 enrolled nodes' feeds of 10,000 access decisions)
//                        from a coordinator (relay) to an empty replica: from the server's
//                        start until the replica's heads equal the server's.
//   sync_max_block_ms    the longest event-loop block on the serving replica while it serves a
//                        5,000-entry catch-up: an edge-sized ledger (bench/lib/edge-ledger.mjs)
//                        whose own feed holds 5,000 entries its coordinator lacks (DESIGN §7:
//                        a tap must be decided meanwhile; budget 20 ms).
// The serving replica runs in a worker thread on the same broker (bench/lib/port-bus.mjs), so
// its event loop is its own; the receiving replica runs on the main thread.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Ledger, PubSubSync, ledgerSyncStore } from '@keymesh/ledger';
import { encodeEntry, signEntry } from '@keymesh/protocol';
import { MemoryBroker } from '@keymesh/testkit';
import { TestSite, testKey, resourceBody } from '@keymesh/testkit/site';
import { NOW, event } from '../lib/access-event.mjs';
import { buildEdgeLedger, edgeSite } from '../lib/edge-ledger.mjs';
import { bridgePort } from '../lib/port-bus.mjs';
import { codeVersion, recordRun } from '../lib/results-md.mjs';

export const describe = 'PubSubSync over the in-memory broker: 100,000-entry catch-up; event-loop block of the serving replica during a 5,000-entry catch-up';

const USAGE = `npm run bench -- sync [--quick] [--part catchup|block]
  --quick  10,000 entries instead of 100,000 and a small serving ledger (smoke run; RESULTS.md untouched)
  --part   only the 100,000-entry catch-up, or only the edge serving 5,000 (RESULTS.md untouched)`;
const SERVER_SCRIPT = fileURLToPath(new URL('../lib/sync-server.mjs', import.meta.url));
const TARGET_KEY = 2002; // testKey index of the receiving replica

/** Signs `per` access decisions for each of `keys` (feeds from `fromSeq`, after `prevs`) and ingests them into `l`. */
function addEvents(l, site, keys, per, { fromSeq = 1, prevs = [], wallFrom = NOW - 1_000_000, firstEvent = 0, log = () => {} } = {}) {
  let n = 0;
  for (const [a, key] of keys.entries()) {
    let prev = prevs[a] ?? null;
    let batch = [];
    for (let s = fromSeq; s < fromSeq + per; s++) {
      const i = firstEvent + a * per + s;
      const { entry, hash } = signEntry(key, { site, seq: s, prev, hlc: { wall: wallFrom + n++, logical: 0 }, type: 'access.decision', deps: [], body: event(i, `m${i % 5000}`) });
      batch.push(encodeEntry(entry));
      prev = hash;
      if (batch.length === 5000) (check(l.ingest(batch, { verify: 'batch' })), (batch = []));
    }
    if (batch.length) check(l.ingest(batch, { verify: 'batch' }));
    if (keys.length > 2 && a % 5 === 4) log(`  signed and stored ${n} / ${keys.length * per}`);
  }
}

function check(r) {
  if (r.rejected.length || r.waiting) throw new Error(`source ledger: ${r.rejected.length} rejected, ${r.waiting} waiting: ${r.rejected[0]?.reason}`);
}

const COORDINATOR_KEY = 2001; // testKey index of the coordinator of the catch-up

/** The coordinator's ledger: the genesis, the coordinator and 10 edge nodes enrolled, `per` events of each edge. */
function buildSource(path, per, log) {
  const site = new TestSite({ now: () => NOW });
  const nodes = Array.from({ length: 10 }, (_, a) => testKey(1000 + a));
  const coordinator = testKey(COORDINATOR_KEY);
  const l = Ledger.open(path, { site: site.site, now: () => NOW, durability: 'process' });
  try {
    check(l.ingest([encodeEntry(site.genesis)]));
    l.appendMany(site.admins[0].key, [
      { type: 'resource.put', body: resourceBody('door', { kind: 'door' }) },
      { type: 'resource.put', body: resourceBody('laser', { requiredCerts: ['laser'] }) },
      { type: 'node.enrol', body: { node: coordinator.publicKey, name: 'coordinator', role: 'coordinator', resources: [] } },
      // The replica that catches up is an enrolled edge: wants from keys without authority go unanswered.
      { type: 'node.enrol', body: { node: testKey(TARGET_KEY).publicKey, name: 'pi-new', role: 'edge', resources: ['door', 'laser'] } },
      ...nodes.map((n, a) => ({ type: 'node.enrol', body: { node: n.publicKey, name: `pi-${a}`, role: 'edge', resources: ['door', 'laser'] } })),
    ]);
    addEvents(l, site.site, nodes, per, { log });
    return { site, heads: l.heads(), entries: l.count() };
  } finally {
    l.close();
  }
}

/** An empty replica of `site` (its genesis only), or the file at `path` as it is. */
function openTarget(path, site, genesis) {
  const l = Ledger.open(path, { site, now: () => NOW });
  if (genesis) check(l.ingest([encodeEntry(genesis)]));
  return l;
}

/**
 * Serves the ledger at `serverPath` from a worker to the replica `target` over a fresh broker;
 * resolves when the target's heads equal `want`, with the time and the server's loop figures.
 */
async function catchUp({ serverPath, site, serverKey, serverUpstream, relay, upstream, target, want, log, timeoutS }) {
  const broker = new MemoryBroker({ auto: true });
  const { port1, port2 } = new MessageChannel();
  bridgePort(port1, broker.client('server'));
  const worker = new Worker(SERVER_SCRIPT, { workerData: { path: serverPath, site, keyIndex: serverKey, upstreamIndex: serverUpstream, askerIndex: TARGET_KEY, now: NOW, relay, port: port2 }, transferList: [port2] });
  const next = (op) => new Promise((resolve, reject) => {
    const onMsg = (m) => m.op === op && (worker.off('message', onMsg), worker.off('error', reject), resolve(m));
    worker.on('message', onMsg);
    worker.once('error', reject);
  });
  await next('ready'); // the server has opened its ledger
  // The receiving replica runs as a node does (its 5 s tick), asking its upstream coordinator
  // when it has one (an edge), the authors and the peers that claim entries otherwise.
  const sync = new PubSubSync({ bus: broker.client('target'), store: ledgerSyncStore(target), site, key: testKey(TARGET_KEY), ...(upstream ? { upstream: [testKey(upstream).publicKey] } : {}) });
  await sync.start();
  const total = Object.values(want).reduce((a, b) => a + b, 0);
  const held = () => Object.entries(want).reduce((a, [author]) => a + Math.min(want[author], target.heads()[author] ?? 0), 0);
  const missing = total - held();
  const t0 = performance.now();
  worker.postMessage('start');
  await next('started');
  let last = -1;
  let lastChange = performance.now();
  const progress = []; // held entries each second: shows the rounds (the replica asks again on its 5 s tick)
  let nextMark = 1000;
  for (;;) {
    await new Promise((r) => setTimeout(r, 20));
    const h = held();
    if (performance.now() - t0 >= nextMark) (progress.push(h - (total - missing)), (nextMark += 1000));
    if (h === total) break;
    if (h !== last) (last = h), (lastChange = performance.now());
    const stalled = (performance.now() - lastChange) / 1000;
    if (stalled > timeoutS) {
      worker.postMessage('stop');
      await next('stopped').catch(() => {});
      await worker.terminate();
      throw new Error(`sync stalled: the replica holds ${h} of ${total} entries, nothing new for ${timeoutS} s`);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  worker.postMessage('stop');
  const server = await next('stopped');
  await worker.terminate();
  await sync.stop();
  log(`  ${missing} entries in ${seconds.toFixed(2)} s; the server's longest event-loop block ${server.maxBlockMs.toFixed(1)} ms (on a CPU: ${server.maxCpuBlockMs?.toFixed(1) ?? '?'} ms; p99 delay ${server.p99DelayMs.toFixed(1)} ms, longest GC ${server.maxGcMs.toFixed(1)} ms, ${server.maxGcKind}; longest store calls ${JSON.stringify(server.slowestStoreCallsMs)}); server counters ${JSON.stringify(server.counters)}; target ${JSON.stringify({ ...sync.counters })}`);
  const shown = progress.length > 24 ? [...progress.slice(0, 12), '…', ...progress.slice(-12)] : progress;
  log(`  entries received after each second (${progress.length} s): ${shown.join(', ')}`);
  if (server.longCalls.length) log(`  the server's store calls over 5 ms: ${server.longCalls.join('; ')}`);
  return { seconds, server, missing };
}

export async function run(args, log) {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return null;
  }
  const quick = args.includes('--quick');
  const part = args.includes('--part') ? args[args.indexOf('--part') + 1] : null;
  if (part !== null && part !== 'catchup' && part !== 'block') throw new Error(`--part takes catchup or block, got ${part}\n${USAGE}`);
  const started = new Date();
  const code = codeVersion();
  const loadStart = os.loadavg()[0];
  const dir = mkdtempSync(join(tmpdir(), 'keymesh-bench-sync-'));
  const metrics = [];
  const m = (name, value, unit) => metrics.push({ name, value: Math.round(value * 100) / 100, unit });
  try {
    // 1. 100,000 entries from a coordinator (relay) to an empty replica.
    if (part !== 'block') {
      const per = quick ? 1000 : 10_000;
      log(`building the coordinator's ledger: 10 nodes × ${per} events…`);
      const src = join(dir, 'coordinator.db');
      const { site, heads, entries } = buildSource(src, per, log);
      log(`catch-up of ${entries - 1} entries to an empty replica…`);
      const target = openTarget(join(dir, 'empty.db'), site.site, site.genesis);
      const r = await catchUp({ serverPath: src, site: site.site, serverKey: COORDINATOR_KEY, relay: true, upstream: COORDINATOR_KEY, target, want: heads, log, timeoutS: 30 });
      target.close();
      m(quick ? 'sync_catchup_10k_s' : 'sync_catchup_100k_s', r.seconds, 's');
      m('sync_catchup_entries', r.missing, 'entries');
      m('sync_catchup_server_max_block_ms', r.server.maxBlockMs, 'ms');
      if (r.server.maxCpuBlockMs !== null) m('sync_catchup_server_max_block_cpu_ms', r.server.maxCpuBlockMs, 'ms');
    }
    // 2. An edge serving 5,000 entries of its own feed to its coordinator.
    if (part !== 'catchup') {
      const edge = join(dir, 'edge.db');
      log(`building the edge-sized ledger${quick ? ' (small)' : ''}…`);
      buildEdgeLedger(edge, quick ? { members: 500, events: 20_000, log } : { log });
      const { site, admin, nodes } = edgeSite();
      const me = nodes[0];
      // Its coordinator (the replica catching up) is enrolled as one: the edge answers only wants of keys with authority.
      const l = Ledger.open(edge, { site: site.site, now: () => NOW });
      l.append(admin, 'node.enrol', { node: testKey(TARGET_KEY).publicKey, name: 'coordinator', role: 'coordinator', resources: [] });
      l.close();
      const coordinator = join(dir, 'edge-coordinator.db');
      copyFileSync(edge, coordinator); // closed and checkpointed: one file
      const e = Ledger.open(edge, { site: site.site, now: () => NOW });
      const from = e.heads()[me.publicKey];
      const head = e.headOf(me.publicKey);
      // Stamped after the built feeds (bench/lib/edge-ledger.mjs stamps up to NOW - 1).
      addEvents(e, site.site, [me], 5000, { fromSeq: from + 1, prevs: [head.hash], wallFrom: NOW - 6000, firstEvent: 200_000 });
      const want = e.heads();
      e.close();
      log(`the edge serves 5,000 entries of its feed (seq ${from + 1}–${from + 5000}) to its coordinator…`);
      const target = openTarget(coordinator, site.site, null);
      const r = await catchUp({ serverPath: edge, site: site.site, serverKey: 1000, serverUpstream: TARGET_KEY, relay: false, target, want, log, timeoutS: 30 });
      target.close();
      m('sync_max_block_ms', r.server.maxBlockMs, 'ms');
      if (r.server.maxCpuBlockMs !== null) m('sync_max_block_cpu_ms', r.server.maxCpuBlockMs, 'ms');
      m('sync_serve_p99_delay_ms', r.server.p99DelayMs, 'ms');
      m('sync_serve_max_gc_ms', r.server.maxGcMs, 'ms');
      m('sync_catchup_5k_s', r.seconds, 's');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  m('machine_load_avg', os.loadavg()[0], 'runnable');
  if (!quick && part === null) {
    const v = Object.fromEntries(metrics.map((x) => [x.name, x]));
    const row = (name, what, budget) => (v[name] ? [{ ...v[name], what, budget }] : []);
    recordRun('sync', {
      command: 'npm run bench -- sync', started, code,
      rows: [
        ...row('sync_catchup_100k_s', '100,000 entries (10 feeds of access decisions) from a coordinator to an empty replica, `PubSubSync` on both, the in-memory broker; until the heads agree'),
        ...row('sync_catchup_server_max_block_ms', 'the longest event-loop block of the coordinator meanwhile'),
        ...row('sync_catchup_server_max_block_cpu_ms', 'the same in its CPU time'),
        ...row('sync_max_block_ms', "the longest event-loop block of an edge-sized replica (5,000 members, 15,000 certifications, 200,000 events) serving 5,000 entries of its feed to its coordinator (`monitorEventLoopDelay`, 1 ms resolution)", { op: '<=', limit: 20, text: 'at most 20 ms' }),
        ...row('sync_max_block_cpu_ms', "the same block in the server thread's CPU time (Linux schedstat between two 1 ms ticks): without the time it waited for a CPU other processes held"),
        ...row('sync_serve_p99_delay_ms', 'p99 of that event-loop delay'),
        ...row('sync_serve_max_gc_ms', "the longest garbage-collection pause of the server meanwhile (part of the blocks)"),
        ...row('sync_catchup_5k_s', 'that catch-up, until the heads agree'),
      ],
      budgetHeader: 'budget (DESIGN §7, issue 11)',
      notes: [
        'The serving replica runs in a worker thread of its own on the same broker, the receiving one on the main thread: the block measured is the server\'s alone.',
        `Load average (1 min, ${os.cpus().length} vCPUs): ${loadStart.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end.`,
      ],
    });
    log('wrote the recorded run into bench/RESULTS.md (sync section)');
  }
  return metrics;
}
