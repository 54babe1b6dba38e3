// The publishing nodes of the coordinator suite, in a child process of their own (so the
// coordinator's process is measured alone): each edge opens its ledger copy, logs in to the
// coordinator's embedded broker over TCP with a login token and runs PubSubSync as an edge
// does (upstream: the coordinator). Messages from the parent (IPC):
//   { op: 'start' }             connect and sync every edge; replies { op: 'started' }
//   { op: 'fanout', count, gapMs }  edge 0 appends and publishes `count` entries live, one every
//                               gapMs; an admin client subscribed to that feed times each
//                               publish → delivery; replies { op: 'fanout', latencies }
//   { op: 'stop' }              replies { op: 'stopped' }
import mqtt from 'mqtt';
import { Ledger, MqttJsBus, PubSubSync, ledgerSyncStore } from '@keymesh/ledger';
import { keyPairFromSeed, fromHex, makeLoginToken, topics } from '@keymesh/protocol';
import { testKey } from '@keymesh/testkit/site';
import { NOW, event } from './access-event.mjs';

const cfg = JSON.parse(process.argv[2]);
const { port, site, coordinator, paths, keyIndices, adminSeed } = cfg;
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

async function start() {
  for (const [i, path] of paths.entries()) {
    const key = testKey(keyIndices[i]);
    const ledger = Ledger.open(path, { site, now: () => NOW + 86_400_000, durability: 'process' });
    const client = await connect(key, `edge-${i}`);
    const sync = new PubSubSync({ bus: new MqttJsBus(client), store: ledgerSyncStore(ledger), site, key, upstream: [coordinator], intervalMs: 1000 });
    await sync.start();
    edges.push({ key, ledger, client, sync });
  }
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
    e.sync.publishEntries([made.entry]);
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
