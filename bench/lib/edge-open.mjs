// An edge node's start after a reboot (DESIGN §12: under 2 s, under 150 MB RSS), in a process of
// its own: open the edge-sized ledger (edge-ledger.mjs), then decide a few taps and record each
// decision in the node's own feed, as the agent would. The caller evicts the file from the page
// cache first (evictFromPageCache). Prints one JSON line.
//   node bench/lib/edge-open.mjs DB
import { Ledger } from '@keymesh/ledger';
import { decide } from '@keymesh/protocol';
import { edgeSite } from './edge-ledger.mjs';
import { NOW } from './access-event.mjs';

const [db] = process.argv.slice(2);
if (!db) {
  console.log('usage: node bench/lib/edge-open.mjs DB');
  process.exit(2);
}
const { site, nodes } = edgeSite();
const t = performance.now();
const l = Ledger.open(db, { site: site.site, now: () => NOW });
const openMs = performance.now() - t;
const rssAfterOpenMb = process.memoryUsage().rss / 2 ** 20;
const taps = [];
for (let i = 0; i < 10; i++) {
  const uid = `c${(i * 487) % 5000}`;
  const resource = i % 2 ? 'laser' : 'door';
  const s = performance.now();
  const d = decide(l.policy, { kind: 'card', uid }, resource, NOW + i);
  l.append(nodes[0], 'access.decision', { resource, credential: { kind: 'card', uid }, allow: d.allow, reason: d.reason, member: d.member ?? null, at: NOW + i });
  taps.push(performance.now() - s);
}
const { rss, heapUsed } = process.memoryUsage();
l.close();
process.stdout.write(JSON.stringify({ openMs, rssAfterOpenMb, rssMb: rss / 2 ** 20, heapMb: heapUsed / 2 ** 20, firstTapMs: taps[0], maxTapMs: Math.max(...taps) }) + '\n');
