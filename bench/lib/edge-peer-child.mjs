// The other side of the edge suite's sync traffic, in a process of its own: an aedes broker on
// TCP (testkit's startAedes; it takes the agent's login token without checking it) and, while
// asked to, one fresh peer after another catching up from the edge: each a copy of the site
// without the edge's own feed (edge-site.mjs base.db), a coordinator key the edge knows, running
// PubSubSync over MQTT.js as a coordinator does, until it holds the edge's whole feed.
//   node bench/lib/edge-peer-child.mjs '{"base":PATH,"dir":DIR,"edge":PUBKEY,"target":SEQ}'
// Messages (IPC): → { op: 'ready', url }; { op: 'catchups' } starts the loop, → { op: 'serving' }
// at the first entry received; { op: 'mark' } notes the taps' start; { op: 'stop' } ends the
// loop → { op: 'stopped', catchups, … }, then exits.
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Ledger, MqttJsBus, PubSubSync, ledgerSyncStore } from '@keymesh/ledger';
import { startAedes } from '@keymesh/testkit/aedes-broker';
import { testKey } from '@keymesh/testkit/site';
import { edgeSite } from './edge-ledger.mjs';
import { PEER_KEYS } from './edge-site.mjs';

const cfg = JSON.parse(process.argv[2]);
const { site } = edgeSite();
const broker = await startAedes();
let running = false;
let loop = null;
let markAt = null;
/** [time, entries] of every ingest from the mark on. */
const arrivals = [];
const catchups = [];

async function catchUp(k) {
  const path = join(cfg.dir, `peer-${k}.db`);
  copyFileSync(cfg.base, path);
  const ledger = Ledger.open(path, { site: site.site, durability: 'process' });
  const key = testKey(PEER_KEYS[k % PEER_KEYS.length]);
  const client = await mqtt.connectAsync(broker.url, { clientId: `peer-${k}`, protocolVersion: 4, reconnectPeriod: 0 });
  const started = performance.now();
  let first = null;
  let received = 0;
  const sync = new PubSubSync({
    bus: new MqttJsBus(client), store: ledgerSyncStore(ledger), site: site.site, key,
    onIngest: (r) => {
      if (r.accepted === 0) return;
      const now = performance.now();
      if (first === null) (first = now), k === 0 && process.send({ op: 'serving' });
      received += r.accepted;
      if (markAt !== null) arrivals.push([now, r.accepted]);
    },
  });
  await sync.start();
  const held = () => ledger.heads()[cfg.edge] ?? 0;
  const debug = process.env.BENCH_EDGE_DEBUG ? setInterval(() => process.stderr.write(`peer ${k}: +${((performance.now() - started) / 1000).toFixed(0)} s held ${held()} received ${received} ${JSON.stringify(sync.counters)}\n`), 1000) : null;
  while (running && held() < cfg.target) await new Promise((r) => setTimeout(r, 50));
  if (debug) clearInterval(debug);
  const done = held() >= cfg.target;
  catchups.push({ k, done, received, firstEntryS: first === null ? null : (first - started) / 1000, seconds: (performance.now() - started) / 1000 });
  await sync.stop();
  await client.endAsync();
  ledger.close();
  for (const s of ['', '-wal', '-shm']) rmSync(path + s, { force: true });
}

process.on('message', async (m) => {
  if (m.op === 'catchups') {
    running = true;
    loop = (async () => {
      for (let k = 0; running; k++) await catchUp(k);
    })();
  } else if (m.op === 'mark') {
    markAt = performance.now();
  } else if (m.op === 'stop') {
    const endAt = performance.now();
    running = false;
    await loop;
    // The longest stretch of the taps' window with no entry arriving at a peer.
    let maxGapMs = 0;
    let prev = markAt ?? endAt;
    let entries = 0;
    for (const [t, n] of arrivals) {
      if (t > endAt) break;
      maxGapMs = Math.max(maxGapMs, t - prev);
      prev = t;
      entries += n;
    }
    maxGapMs = Math.max(maxGapMs, endAt - prev);
    process.send({ op: 'stopped', catchups, entriesDuringTaps: entries, maxGapMs, windowS: (endAt - (markAt ?? endAt)) / 1000 });
    await broker.close();
    process.exit(0);
  }
});
process.send({ op: 'ready', url: broker.url });
