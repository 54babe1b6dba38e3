// An edge node's start after a reboot (DESIGN §12: under 2 s, under 150 MB RSS), in a process of
// its own: open the edge-sized ledger (edge-ledger.mjs), then decide a few taps and record each
// decision in the node's own feed, as the agent would. The caller evicts the file from the page
// cache first (evictFromPageCache). With N, then times N rule changes appended and N arriving by
// sync (a fresh process like a node's: the bench's own heap, hundreds of MB of test data, made
// its major GCs pause the timed appends by up to a second). Prints one JSON line.
//   node bench/lib/edge-open.mjs DB [N]
import { Ledger } from '@keymesh/ledger';
import { decide, encodeEntry, entryHash, signEntry } from '@keymesh/protocol';
import { memberBody } from '@keymesh/testkit/site';
import { edgeSite } from './edge-ledger.mjs';
import { NOW, card } from './access-event.mjs';

const [db, changes] = process.argv.slice(2);
if (db) run(db, changes);
else {
  process.stderr.write('usage: node bench/lib/edge-open.mjs DB [N]\n');
  process.exitCode = 2;
}

function run(db, changes) {
  const { site, admin, nodes } = edgeSite();
  const t0 = performance.now();
  const l = Ledger.open(db, { site: site.site, now: () => NOW });
  const openMs = performance.now() - t0;
  const rssAfterOpenMb = process.memoryUsage().rss / 2 ** 20;
  const taps = [];
  for (let i = 0; i < 10; i++) {
    const ref = card(`c${(i * 487) % 5000}`);
    const resource = i % 2 ? 'laser' : 'door';
    const s = performance.now();
    const d = decide(l.policy, { kind: 'card', card: ref }, resource, NOW + i, { node: nodes[0].publicKey });
    l.append(nodes[0], 'access.decision', { resource, credential: { kind: 'card', card: ref }, allow: d.allow, reason: d.reason, member: d.member ?? null, at: NOW + i });
    taps.push(performance.now() - s);
  }
  const { rss, heapUsed } = process.memoryUsage();
  const out = { openMs, rssAfterOpenMb, rssMb: rss / 2 ** 20, heapMb: heapUsed / 2 ** 20, firstTapMs: taps[0], maxTapMs: Math.max(...taps) };

  if (changes) {
    const n = Number(changes);
    const members = 5000;
    let x = 777;
    const nextMember = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) % members);
    const change = (k, i) => memberBody(`m${k}`, { contact: `m${k}+${i}@example.org`, status: i % 10 === 0 ? 'suspended' : 'active' });
    // Changes signed elsewhere by the same admin (its dashboard), beforehand: the node only
    // verifies and applies them. deps name the heads this ledger holds, so one change per member.
    let stamp = 100_000;
    const signed = (count) => {
      let seq = l.heads()[admin.publicKey];
      let prev = entryHash(l.read(admin.publicKey, seq, 1)[0]);
      const lines = [];
      const used = new Set();
      while (lines.length < count) {
        const k = nextMember();
        if (used.has(k)) continue;
        used.add(k);
        const { entry, hash } = signEntry(admin, { site: site.site, seq: ++seq, prev, hlc: { wall: NOW, logical: stamp++ }, type: 'member.put', deps: l.policy.headHashes(`member/m${k}`), body: change(k, stamp) });
        lines.push(encodeEntry(entry));
        prev = hash;
      }
      return lines;
    };
    const ingest = (line) => {
      const r = l.ingest([line]);
      if (r.accepted !== 1) throw new Error(`rule change not accepted: ${JSON.stringify(r)}`);
    };
    // Warm-up, not timed, as on a node that has run a while: V8 compiles both paths on its
    // background threads meanwhile, which on 2 vCPUs took the CPU from the first ~100 changes.
    for (let i = 0; i < 200; i++) l.append(admin, 'member.put', change(nextMember(), -i));
    for (const line of signed(200)) ingest(line);
    out.appendMs = [];
    out.ingestMs = [];
    for (let i = 0; i < n; i++) {
      const body = change(nextMember(), i);
      const t = performance.now();
      l.append(admin, 'member.put', body);
      out.appendMs.push(performance.now() - t);
    }
    for (const line of signed(n)) {
      const t = performance.now();
      ingest(line);
      out.ingestMs.push(performance.now() - t);
    }
  }
  l.close();
  process.stdout.write(JSON.stringify(out) + '\n');
}
