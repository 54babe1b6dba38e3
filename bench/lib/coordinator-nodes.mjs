// The publishing nodes of the coordinator suite, in a child process of their own (so the
// coordinator's process is measured alone): each edge opens its ledger, logs in to the
// coordinator's embedded broker over TCP with a login token and runs PubSubSync (see start()).
// Messages from the parent (IPC):
//   { op: 'start' }             connect every edge ({ op: 'connected' }), then start their sync
//                               ({ op: 'started' })
//   { op: 'fanout', count, gapMs }  edge 0 appends and publishes `count` entries live, one every
//                               gapMs; an admin client subscribed to that feed times each
//                               publish → delivery; replies { op: 'fanout', latencies }
//   { op: 'stop' }              replies { op: 'stopped' }
import mqtt from 'mqtt';
import { Ledger, MqttJsBus, PubSubSync, ledgerSyncStore } from '@keymesh/ledger';
import { canonicalString, keyPairFromSeed, fromHex, makeLoginToken, topics } from '@keymesh/protocol';
import { testKey } from '@keymesh/testkit/site';
import { event } from './access-event.mjs';

const cfg = JSON.parse(process.argv[2]);
const { port, site, coordinator, paths, keyIndices, adminSeed } = cfg;
const adminKey = keyPairFromSeed(fromHex(adminSeed)).publicKey;
const t = topics(site);
const edges = [];

async function connect(key, clientId) {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    clientId, protocolVersion: 4, reconnectPeriod: 500, clean: true,
    ...makeLoginToken({ clientId, site }, key),
  });
  // A fresh token for every reconnection (the broker refuses a replayed one).
  client.on('close', () => Object.assign(client.options, makeLoginToken({ clientId, site }, key)));
  await new Promise((resolve, reject) => (client.once('connect', resolve), client.once('error', reject)));
  return client;
}

/**
 * Every edge connects and syncs as an edge does (upstream: the coordinator), so the coordinator
 * asks each for its feed and takes it in paced batches. The one change from a Pi: an edge here
 * takes no other edge's feed (its store says those keys hold no authority), or the bench's
 * second core would measure ten replicas ingesting each other's feeds, not the coordinator.
 */
async function start() {
  const keep = new Set([coordinator, adminKey]);
  for (const [i, path] of paths.entries()) {
    const key = testKey(keyIndices[i]);
    const ledger = Ledger.open(path, { site, durability: 'process' });
    const client = await connect(key, `edge-${i}`);
    const base = ledgerSyncStore(ledger);
    const store = { ...base, hasAuthority: (k) => k === key.publicKey || keep.has(k) };
    const sync = new PubSubSync({ bus: new MqttJsBus(client), store, site, key, upstream: [coordinator], intervalMs: 1000 });
    edges.push({ key, ledger, client, sync });
  }
  process.send({ op: 'connected' });
  for (const e of edges) await e.sync.start();
}

async function fanout(count, gapMs) {
  const admin = keyPairFromSeed(fromHex(adminSeed));
  const sub = await connect(admin, 'bench-admin');
  const e = edges[0];
  const sent = new Map();
  const latencies = [];
  let done;
  const all = new Promise((r) => (done = r));
  sub.on('message', (topic, payload) => {
    const seq = JSON.parse(payload.toString()).seq;
    const t0 = sent.get(seq);
    if (t0 === undefined) return;
    sent.delete(seq);
    latencies.push(performance.now() - t0);
    if (latencies.length === count) done();
  });
  await sub.subscribeAsync(t.feed(e.key.publicKey), { qos: 1 });
  for (let i = 0; i < count; i++) {
    const [made] = e.ledger.appendMany(e.key, [{ type: 'access.decision', body: event(i, `m${i}`) }]);
    sent.set(made.entry.seq, performance.now());
    e.client.publish(t.feed(e.key.publicKey), canonicalString(made.entry), { qos: 1 });
    await new Promise((r) => setTimeout(r, gapMs));
  }
  await Promise.race([all, new Promise((r) => setTimeout(r, 10_000))]);
  await sub.endAsync();
  return latencies;
}

process.on('message', async (m) => {
  if (m.op === 'start') (await start(), process.send({ op: 'started' }));
  else if (m.op === 'fanout') process.send({ op: 'fanout', latencies: await fanout(m.count, m.gapMs) });
  else if (m.op === 'stop') {
    for (const e of edges) (await e.sync.stop(), await e.client.endAsync(), e.ledger.close());
    process.send({ op: 'stopped' });
    process.exit(0);
  }
});
process.send({ op: 'ready' });
