// The serving replica of the sync suite, in a worker thread of its own (see port-bus.mjs): opens
// the ledger at workerData.path, runs PubSubSync on the port's bus, and measures its own event
// loop (perf_hooks.monitorEventLoopDelay, 1 ms resolution) from 'start' to 'stop'.
import { readFileSync } from 'node:fs';
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { Ledger, PubSubSync, decodeSyncMessage, encodeSyncMessage, ledgerSyncStore, signSync } from '@keymesh/ledger';
import { topics } from '@keymesh/protocol';
import { MemoryBroker } from '@keymesh/testkit';
import { testKey } from '@keymesh/testkit/site';
import { PortBus } from './port-bus.mjs';

const { path, site, keyIndex, upstreamIndex, askerIndex, now, relay, port } = workerData;
const ledger = Ledger.open(path, { site, now: () => now });
let measuring = false;
// The same loop in CPU time: this thread's time on a CPU (Linux schedstat, ns) between two 1 ms
// ticks. A block made by the code shows in both; time spent waiting for a CPU that other
// processes hold shows in the delay only.
const onCpuMs = () => {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return null;
  }
};
let lastCpu = null;
let maxCpuBlockMs = null;
const cpuTicks = setInterval(() => {
  const c = onCpuMs();
  if (measuring && c !== null && lastCpu !== null) maxCpuBlockMs = Math.max(maxCpuBlockMs ?? 0, c - lastCpu);
  lastCpu = c;
}, 1);
let startedAt = 0;
/** Store calls over 5 ms: which, with its numeric arguments, how long, when. */
const longCalls = [];
// The store's calls are timed (longest of each), to name what a long block was spent in.
const slowest = {};
const store = ledgerSyncStore(ledger);
for (const [name, fn] of Object.entries(store)) {
  store[name] = (...args) => {
    const t = performance.now();
    try {
      return fn(...args);
    } finally {
      const ms = performance.now() - t;
      if (measuring && ms > (slowest[name] ?? 0)) slowest[name] = Math.round(ms * 10) / 10;
      if (measuring && ms > 5) longCalls.push(`${name}(${args.filter((a) => typeof a === 'number').join(',')}) ${ms.toFixed(1)} ms at +${(t - startedAt).toFixed(0)} ms`);
    }
  };
}
const me = testKey(keyIndex);
// The node's default period (5 s): its rounds also reset what each peer may ask of it.
const sync = new PubSubSync({ bus: new PortBus(port), store, site, key: me, relay, ...(upstreamIndex ? { upstream: [testKey(upstreamIndex).publicKey] } : {}) });

/**
 * A node that has run a while has compiled its serving path: a 300-entry want from a bare client
 * (with the key of the replica that will catch up: wants of keys without authority go
 * unanswered) on a private broker, served by a second PubSubSync over the same store.
 */
async function warmUp() {
  const broker = new MemoryBroker({ auto: true });
  const warm = new PubSubSync({ bus: broker.client(me.publicKey), store: ledgerSyncStore(ledger), site, key: me, intervalMs: 0 });
  await warm.start();
  const asking = testKey(askerIndex);
  const asker = broker.client(asking.publicKey);
  const t = topics(site);
  let received = 0;
  await asker.subscribe(t.batch(me.publicKey, asking.publicKey), (m) => {
    const d = decodeSyncMessage(m.payload);
    if (d.ok && d.msg.kind === 'batch') received += d.msg.entries.length;
  });
  const [author, held] = Object.entries(ledger.heads()).sort((a, b) => b[1] - a[1])[0];
  const n = Math.min(300, held);
  await asker.publish(t.want(asking.publicKey, me.publicKey), encodeSyncMessage(signSync({ kind: 'want', node: asking.publicKey, to: me.publicKey, ranges: [{ author, from: 1, to: n }] }, asking)));
  for (let waited = 0; received < n && waited < 10_000; waited += 5) await new Promise((r) => setTimeout(r, 5));
  await warm.stop();
  broker.close();
  if (received < n) throw new Error(`warm-up: ${received} of ${n} entries served`);
}
const delay = monitorEventLoopDelay({ resolution: 1 });
// Garbage collection pauses the loop too: reported apart, so a block can be told from a GC.
let maxGcMs = 0;
let maxGcKind = '';
const GC_KINDS = { 1: 'scavenge', 2: 'minor mark-compact', 4: 'mark-compact', 8: 'incremental marking', 16: 'weak callbacks' };
new PerformanceObserver((list) => {
  if (!measuring) return;
  for (const e of list.getEntries()) {
    if (e.duration > maxGcMs) (maxGcMs = e.duration), (maxGcKind = GC_KINDS[e.detail?.kind] ?? String(e.detail?.kind));
  }
}).observe({ entryTypes: ['gc'] });

parentPort.on('message', async (m) => {
  if (m === 'start') {
    delay.enable();
    measuring = true;
    startedAt = performance.now();
    await sync.start();
    parentPort.postMessage({ op: 'started', node: sync.node });
  } else if (m === 'stop') {
    delay.disable();
    measuring = false;
    clearInterval(cpuTicks);
    await sync.stop();
    ledger.close();
    parentPort.postMessage({
      op: 'stopped',
      maxBlockMs: delay.max / 1e6,
      p99DelayMs: delay.percentile(99) / 1e6,
      maxCpuBlockMs,
      maxGcMs,
      maxGcKind,
      slowestStoreCallsMs: slowest,
      longCalls: longCalls.slice(0, 20),
      counters: { ...sync.counters },
    });
  }
});
// As on a node that has run a while: the serving path compiled, the open's garbage collected.
await warmUp();
setTimeout(() => parentPort.postMessage({ op: 'ready' }), 2000);
