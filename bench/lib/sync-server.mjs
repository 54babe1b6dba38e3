// The serving replica of the sync suite, in a worker thread of its own (see port-bus.mjs): opens
// the ledger at workerData.path, runs PubSubSync on the port's bus, and measures its own event
// loop (perf_hooks.monitorEventLoopDelay, 1 ms resolution) from 'start' to 'stop'.
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { Ledger, PubSubSync, ledgerSyncStore } from '@keymesh/ledger';
import { testKey } from '@keymesh/testkit/site';
import { PortBus } from './port-bus.mjs';

const { path, site, keyIndex, now, relay, port } = workerData;
const ledger = Ledger.open(path, { site, now: () => now });
let measuring = false;
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
    }
  };
}
const sync = new PubSubSync({ bus: new PortBus(port), store, site, key: testKey(keyIndex), relay, intervalMs: 0 });
const delay = monitorEventLoopDelay({ resolution: 1 });
// Garbage collection pauses the loop too: reported apart, so a block can be told from a GC.
let maxGcMs = 0;
new PerformanceObserver((list) => {
  if (measuring) for (const e of list.getEntries()) maxGcMs = Math.max(maxGcMs, e.duration);
}).observe({ entryTypes: ['gc'] });

parentPort.on('message', async (m) => {
  if (m === 'start') {
    delay.enable();
    measuring = true;
    await sync.start();
    parentPort.postMessage({ op: 'started', node: sync.node });
  } else if (m === 'stop') {
    delay.disable();
    measuring = false;
    await sync.stop();
    ledger.close();
    parentPort.postMessage({
      op: 'stopped',
      maxBlockMs: delay.max / 1e6,
      p99DelayMs: delay.percentile(99) / 1e6,
      maxGcMs,
      slowestStoreCallsMs: slowest,
      counters: { ...sync.counters },
    });
  }
});
parentPort.postMessage({ op: 'ready' });
