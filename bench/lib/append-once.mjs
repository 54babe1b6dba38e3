// One steady-state append figure for the checkout at ROOT (built): single appends, one per
// transaction, durability 'group', after WARM_UP appends and 0.2 s for the group-commit thread;
// with the appends per CPU-second of the process and the VM's steal share (steal.mjs) meanwhile.
// For comparing two checkouts on a VM whose speed drifts: run them alternately, in pairs, and
// compare within each pair (bench/RESULTS.md, ledger, shows how).
//   node bench/lib/append-once.mjs ROOT [N]
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { NOW, event } from './access-event.mjs';
import { StealMeter } from './steal.mjs';

/**
 * Appends before the timing starts, as on a node that has run for a while: V8 has compiled the
 * append path, and the group-commit thread is up. Pinned to one vCPU, a cold start's compiling
 * shares the core with the appends (~25 % fewer in a run of 5,000; bench/RESULTS.md, ledger).
 */
const WARM_UP = 2000;

async function appendOnce(root, n) {
  const { Ledger } = await import(`${root}/packages/ledger/dist/index.js`);
  const { encodeEntry } = await import(`${root}/packages/protocol/dist/index.js`);
  const { TestSite, testKey } = await import(`${root}/packages/testkit/dist/site.js`);
  const site = new TestSite({ now: () => NOW });
  const node = testKey(30);
  const dir = mkdtempSync(join(tmpdir(), 'keymesh-append-once-'));
  try {
    const l = Ledger.open(join(dir, 'x.db'), { site: site.site, now: () => NOW });
    l.ingest([encodeEntry(site.genesis)]);
    for (let i = 0; i < WARM_UP; i++) l.append(node, 'access.decision', event(i - WARM_UP, 'ada'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const meter = new StealMeter().start();
    const t = performance.now();
    for (let i = 0; i < n; i++) l.append(node, 'access.decision', event(i, 'ada'));
    l.flush();
    const rate = n / ((performance.now() - t) / 1000);
    meter.stop();
    l.close();
    return `${rate.toFixed(0)}/s (${(n / meter.cpuSeconds).toFixed(0)} per CPU-second, steal ${meter.stealPct?.toFixed(0) ?? '?'} %)`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const [root, count] = process.argv.slice(2);
if (!root || root === '--help') {
  console.log('usage: node bench/lib/append-once.mjs ROOT [N]\n  ROOT  a built checkout of this repository\n  N     appends to time (default 6000)');
  process.exitCode = root ? 0 : 2; // no ROOT is a usage error
} else {
  console.log(await appendOnce(root, Number(count ?? 6000)));
}
