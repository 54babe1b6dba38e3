// Ingest measured in a process of its own, as a coordinator or `keymesh-ledger import` runs it:
// without the benchmark's own hundreds of MB of test data on the heap (which made the garbage
// collector a large share of the in-process figure).
// usage: node bench/lib/ingest-child.mjs LINES.jsonl DB SITE batch|each [pool]
//   pool: validate in a worker (IngestPool) while this thread stores.
import { readFileSync } from 'node:fs';
import { IngestPool, Ledger } from '@keymesh/ledger';

const [file, db, site, mode, pool] = process.argv.slice(2);
const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
const ledger = Ledger.open(db, { site, now: () => 1_700_000_000_000 });
const workers = pool ? new IngestPool(ledger) : null;
await workers?.ready(); // a coordinator keeps its pool: worker start-up is not per batch
const t = performance.now();
const cpu = process.cpuUsage();
// Every line must be stored in its feed: rejected or held entries (a feed of a key without
// authority, say) would make the figure meaningless.
let accepted = 0;
if (workers) {
  const r = await workers.ingest(lines, { verify: mode, batch: 5000 });
  if (r.rejected.length) throw new Error(`ingest rejected ${r.rejected.length}: ${r.rejected[0].reason}`);
  accepted += r.accepted;
} else {
  for (let i = 0; i < lines.length; i += 5000) {
    const r = ledger.ingest(lines.slice(i, i + 5000), { verify: mode });
    if (r.rejected.length) throw new Error(`ingest rejected ${r.rejected.length}: ${r.rejected[0].reason}`);
    accepted += r.accepted;
  }
}
if (accepted !== lines.length) throw new Error(`ingest stored ${accepted} of ${lines.length} entries in their feeds (the rest waits: are the feeds' nodes enrolled?)`);
const seconds = (performance.now() - t) / 1000;
const { user, system } = process.cpuUsage(cpu);
await workers?.close();
ledger.close();
process.stdout.write(JSON.stringify({ entries: lines.length, seconds, cpuSeconds: (user + system) / 1e6 }) + '\n');
