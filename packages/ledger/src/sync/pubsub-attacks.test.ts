/**
 * A hostile peer on the bus against PubSubSync (red team). `it.failing` marks an attack that
 * still works: the test asserts the safe behaviour, so it fails while the bug is there (and
 * jest reports it as passing); when the fix lands, turn it into `it`. Each says the attack, the
 * harm, whether the broker ACL of DESIGN §3 stops it, and the fix suggested.
 */
import { describe, it, expect, afterAll } from '@jest/globals';
import { Buffer } from 'node:buffer';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MIN_SYNC_MESSAGE_BYTES, SIGNING_DOMAINS, encodeEntry, signDomain, topics, type KeyPair } from '@keymesh/protocol';
import { decisionBody, stallingBatches, stopSyncPeers, syncPeer, syncSite, MemoryBroker, memberBody, testKey, tempDir, type PublishRecord } from '@keymesh/testkit';
import { Ledger } from '../ledger.js';
import { decodeSyncMessage, encodeSyncMessage } from './codec.js';
import { ledgerSyncStore } from './ledger-store.js';
import { PubSubSync } from './pubsub.js';

const dir = tempDir();
let n = 0;
const open = (site: string) => Ledger.open(join(dir, `a${n++}.db`), { site, durability: 'process' });
const cleanup: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  await stopSyncPeers();
  for (const c of cleanup.splice(0)) await c();
});


/** Admin, coordinator C, edge E, and an enrolled edge D whose feed holds `dEntries` decisions (the catch-up material). */


function tap(broker: MemoryBroker, pred: (p: PublishRecord) => boolean): PublishRecord[] {
  const seen: PublishRecord[] = [];
  broker.onPublish((p) => pred(p) && seen.push(p));
  return seen;
}

const decision = decisionBody;
const fakeKey = (i: number) => (0xa0000000 + i).toString(16).padStart(64, 'f');
async function world() {
  const s = syncSite();
  const broker = new MemoryBroker({ seed: 8 });
  const t = topics(s.site.site);
  const c = await syncPeer(broker.client(s.C.publicKey), s.site.site, s.C, s.admin.feed, { relay: true });
  const e = await syncPeer(broker.client(s.E.publicKey), s.site.site, s.E, s.admin.feed, { upstream: [s.C.publicKey] });
  await broker.settle();
  return { ...s, broker, t, c, e };
}

/** Sync messages signed, as PubSubSync requires, by the test key of `node` (or by `signer`: a forgery). */
const keyOf = (node: string): KeyPair => Array.from({ length: 200 }, (_, i) => testKey(i + 1)).find((k) => k.publicKey === node) ?? testKey(199);
const sign = <T extends object>(msg: T, k: KeyPair) => ({ ...msg, sig: signDomain(SIGNING_DOMAINS.sync, msg, k) });
let clock = 1_700_000_000_000;
const have = (node: string, heads: Record<string, number>) => encodeSyncMessage(sign({ kind: 'have' as const, node, heads, at: ++clock }, keyOf(node)));
const want = (node: string, to: string, ranges: Array<{ author: string; from: number; to: number }>, signer = keyOf(node)) => encodeSyncMessage(sign({ kind: 'want' as const, node, to, ranges }, signer));

describe('PubSubSync under attack from a peer on the bus', () => {
  /*
   * Attack: a peer's have (unsigned is accepted) claims 1,024 feeds that do not exist (keys with
   * no authority, nothing signed by them anywhere). ACL: an unenrolled client is kept out, but
   * any one enrolled node (a stolen edge) can publish on its own have topic; without the ACL,
   * 256 invented peer ids x 1,024 feeds each (Sources' caps) make every plan() walk 262,144
   * targets against 256 claims.
   * Harm: every node that hears it (one without upstream: the coordinator) asks for all 1,024
   * feeds round after round (~100 KB of wants per round per liar) while the liar repeats it.
   * Fix: want only feeds of keys that hold authority here (store.hasAuthority), or that a
   * verified entry showed; count an unsigned have for nothing but sync lag.
   */
  it('a have claiming 1,024 invented feeds makes the hearer ask for none of them', async () => {
    const { site, admin, E } = syncSite();
    const broker = new MemoryBroker({ seed: 1 });
    const e = await syncPeer(broker.client(E.publicKey), site.site, E, admin.feed);
    const t = topics(site.site);
    const liar = testKey(90).publicKey;
    const rogue = broker.client(liar);
    await broker.settle();
    const wants = tap(broker, (p) => p.topic.startsWith(t.want(E.publicKey, '')));
    const heads = Object.fromEntries(Array.from({ length: 1024 }, (_, i) => [fakeKey(i), 1_000_000]));
    await rogue.publish(t.have(liar), have(liar, heads));
    await broker.settle();
    e.sync.tick();
    await broker.settle();
    const ranges = wants.reduce((sum, p) => sum + ((d) => (d.ok && d.msg.kind === 'want' ? d.msg.ranges.length : 0))(decodeSyncMessage(p.payload)), 0);
    expect(ranges).toBe(0);
  });

  /*
   * Attack: a want (or have, or batch) published with retain. The broker keeps it and hands it
   * to the addressee on every (re)subscription: after each reconnection the coordinator answers
   * a want made once, maybe by a node long gone. ACL: not stopped (a node may publish on its
   * own sync topics; the ACL does not forbid retain there).
   * Harm: a standing order for the whole ledger, replayed at every reconnect of the victim.
   * Fix: drop `m.retain` messages on sync/ topics (and have the ACL refuse retained publishes
   * there).
   */
  it('a retained want is not answered again when the addressee reconnects', async () => {
    const { site, admin, C } = syncSite();
    const broker = new MemoryBroker({ seed: 3 });
    const t = topics(site.site);
    await syncPeer(broker.client(C.publicKey), site.site, C, admin.feed, { relay: true });
    const R = testKey(92).publicKey;
    await broker.client(R).publish(t.want(R, C.publicKey), want(R, C.publicKey, [{ author: admin.id, from: 1, to: 100 }]), { qos: 1, retain: true });
    await broker.settle();
    const batches = tap(broker, (p) => p.topic === t.batch(C.publicKey, R));
    broker.partition([C.publicKey]);
    broker.heal([C.publicKey]);
    await broker.settle();
    expect(batches).toHaveLength(0);
  });

  /*
   * Attack: one want of 1,300 one-seq ranges (each `{author, from: 2i, to: 2i}`, so none merge),
   * about 128 KiB. sendRanges merges them with addRange, which sorts and copies the author's
   * whole list for each range (quadratic), then pump reads each range; a range that yields no
   * entry never ends a slice (turnOver is checked only after something was sent). ACL: any
   * enrolled node may want from any other.
   * Harm: one small message holds the answering node's event loop past the 20 ms budget (an
   * edge decides no tap meanwhile); repeated, it keeps an edge busy.
   * Fix: collect ranges per author and sort/merge once per want; cap ranges per want and per
   * peer's outbox; count reads (not only sends) toward the slice.
   */
  it('a want of 1,300 scattered ranges is handled within a 20 ms slice', async () => {
    const { site, admin, C, D, dLines } = syncSite(40);
    const broker = new MemoryBroker({ seed: 4 });
    const t = topics(site.site);
    // Slices of 1 ms: what the handler reads before it yields is then far fewer than 1,300 ranges.
    const c = await syncPeer(broker.client(C.publicKey), site.site, C, [...admin.feed, ...dLines], { relay: true, sliceMs: 1 });
    let reads = 0;
    const store = (c.sync as unknown as { o: { store: { readEncoded: (...a: [string, number, number]) => string[] } } }).o.store;
    const read = store.readEncoded.bind(store);
    store.readEncoded = (...a) => (reads++, read(...a));
    const R = testKey(93).publicKey;
    const rogue = broker.client(R);
    await broker.settle();
    const ranges = Array.from({ length: 1300 }, (_, i) => ({ author: D.publicKey, from: 2 * i + 1, to: 2 * i + 1 }));
    const payload = want(R, C.publicKey, ranges);
    expect(payload.byteLength).toBeLessThan(128 * 1024);
    await rogue.publish(t.want(R, C.publicKey), payload);
    broker.step(); // the delivery: answered from the next turn on, one slice a turn
    expect(reads).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(reads).toBeGreaterThan(0);
    expect(reads).toBeLessThan(1300);
    await broker.settle();
    expect(reads).toBeGreaterThanOrEqual(20); // the rest followed in later turns (D's feed has 40)
  });

  /*
   * Attack: the broker stops acknowledging C's publishes (QoS 1 PUBACK never comes: a stalled
   * TCP connection, or aedes waiting on a subscriber that does not drain) while a peer keeps
   * sending wants. The window (batches in flight per peer) is checked only after a turn sent
   * one batch, and an outbox that empties is deleted, so every new want sends one more batch.
   * ACL: does not help (any enrolled node may want).
   * Harm: publishes that never resolve pile up without bound (MQTT.js keeps each in its
   * outgoing store); nothing times them out, so the peer's window never reopens either.
   * Fix: check congestion before the first send of a turn (queue the want instead); time out
   * publishes (one unresolved after N s counts as failed and frees its slot).
   */
  it('while the broker withholds acknowledgements, no more than `window` batches are in flight to one peer', async () => {
    const { site, admin, C, D, dLines } = syncSite(40);
    const { broker, bus, held } = stallingBatches(C.publicKey, 5);
    const t = topics(site.site);
    await syncPeer(bus, site.site, C, [...admin.feed, ...dLines], { relay: true, window: 1 });
    const R = testKey(94).publicKey;
    const rogue = broker.client(R);
    await broker.settle();
    for (let k = 1; k <= 5; k++) await rogue.publish(t.want(R, C.publicKey), want(R, C.publicKey, [{ author: D.publicKey, from: k, to: k }]));
    await broker.settle();
    const inFlight = held.length;
    held.splice(0).forEach((r) => r());
    await broker.settle();
    expect(inFlight).toBeLessThanOrEqual(1);
  });

  /*
   * Attack: as above, but while a catch-up to the peer is paused by a full window. Every want
   * received meanwhile is appended, unmerged, to the engine's `incoming` list (memory grows
   * with each want); when the publish resolves, pump merges the whole backlog with addRange,
   * which sorts and copies the author's list once per range: quadratic, in one turn.
   * Harm: memory grows while stalled; the resume blocks the event loop far past 20 ms.
   * Fix: merge ranges into the outbox as they arrive, once per want (sort, then one pass),
   * bounded per peer.
   */
  it('wants queued behind a paused catch-up cost no long block when sending resumes', async () => {
    const { site, admin, C, D, dLines } = syncSite(300);
    const { broker, bus, held } = stallingBatches(C.publicKey, 6);
    const t = topics(site.site);
    await syncPeer(bus, site.site, C, [...admin.feed, ...dLines], { relay: true, window: 1, maxMessageBytes: MIN_SYNC_MESSAGE_BYTES });
    const R = testKey(95).publicKey;
    const rogue = broker.client(R);
    await broker.settle();
    await rogue.publish(t.want(R, C.publicKey), want(R, C.publicKey, [{ author: D.publicKey, from: 1, to: 300 }]));
    await broker.settle();
    expect(held.length).toBeGreaterThan(0); // the catch-up is paused behind its first batches
    const scattered = (k: number) => Array.from({ length: 600 }, (_, i) => ({ author: D.publicKey, from: 6 * i + 400 + 2 * k, to: 6 * i + 400 + 2 * k }));
    for (let k = 0; k < 3; k++) await rogue.publish(t.want(R, C.publicKey), want(R, C.publicKey, scattered(k)));
    await broker.settle();
    const worst = await longestBlock(async () => {
      held.splice(0).forEach((r) => r());
      for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    });
    held.splice(0).forEach((r) => r());
    await broker.settle();
    expect(worst).toBeLessThan(20);
  });

  /*
   * Attack (or plain catch-up): a batch of ~130 KB, the default byte limit, addressed to an edge.
   * It is ingested (every signature verified, one transaction) in the handler, synchronously:
   * pacing exists only on the sending side. ACL: any enrolled node may send a batch to another.
   * Harm: the receiving edge decides no tap for the whole ingest; a peer sending full batches
   * (valid or with bad signatures, which cost the same to verify) keeps it that way.
   * Fix: ingest a batch in slices of a few ms (verify in chunks, yield between), or bound a
   * batch's entries by what an edge verifies within the slice budget.
   */
  it('an edge ingesting a full batch holds its event loop less than 20 ms', async () => {
    const { site, admin, C, D, E, dLines } = syncSite(180);
    const broker = new MemoryBroker({ seed: 6 });
    const t = topics(site.site);
    const e = await syncPeer(broker.client(E.publicKey), site.site, E, admin.feed, { upstream: [C.publicKey] });
    const cb = broker.client(C.publicKey);
    await cb.publish(t.have(C.publicKey), encodeSyncMessage(sign({ kind: 'have' as const, node: C.publicKey, heads: { [D.publicKey]: 180 }, at: Date.now() }, C))); // E asks C
    await broker.settle();
    const payload = encodeSyncMessage({ kind: 'batch', node: C.publicKey, to: E.publicKey, entries: dLines });
    expect(payload.byteLength).toBeLessThan(128 * 1024);
    await cb.publish(t.batch(C.publicKey, E.publicKey), payload);
    broker.step(); // the delivery: the batch is queued, stored in slices in later turns
    expect(e.ledger.count()).toBe(admin.feed.length);
    do await broker.settle(); while (e.sync.busy); // stored in slices, turn after turn
    expect(e.ledger.count()).toBe(admin.feed.length + 180);
  });

  /*
   * Attack: a peer's have claims a feed at 2^40 (any enrolled node may, on its own have topic;
   * the coordinator, which has no upstream, hears every have).
   * Harm: the signed status reported a sync lag of ~2^40 for as long as the liar repeated itself.
   * Fixed: lag counts only what signed entries show and the upstream's signed have claims.
   * (An enrolled key's own signed head at seq 10^6 does count: that key signed it, so the node
   * reports the gap it truly cannot fill; an admin looks at that node.)
   */
  it("a liar's have does not inflate the coordinator's sync lag", async () => {
    const { broker, t, c, admin } = await world();
    const liar = testKey(96).publicKey;
    await broker.client(liar).publish(t.have(liar), have(liar, { [admin.id]: 2 ** 40 }));
    await broker.settle();
    expect(c.sync.status().syncLag).toBe(0);
  });

  /*
   * Attack: R publishes a want on V's topic naming V (`sync/V/want/C`, node V). Wants are
   * unsigned, so C answers V with everything asked. ACL: stopped by the ACL of DESIGN §3 (only
   * V publishes under sync/V/); an external broker without that ACL leaves it open.
   * Harm: a 200-byte message makes C send the whole ledger to any node, repeatable.
   * Fix: sign wants under the sync domain as haves are (or refuse to start without the ACL).
   */
  it('a want published on another node’s topic (sender forged) is not answered', async () => {
    const { broker, t, C, E, admin } = await world();
    const batches = tap(broker, (p) => p.topic === t.batch(C.publicKey, E.publicKey));
    await broker.client('rogue').publish(t.want(E.publicKey, C.publicKey), want(E.publicKey, C.publicKey, [{ author: admin.id, from: 1, to: admin.feed.length }], testKey(95)));
    await broker.settle();
    expect(batches).toHaveLength(0);
  });

  /*
   * Attack: the coordinator's key is stolen; an admin retires it (node.retire, lastSeq = its
   * head) and the edge holds that retirement. The thief, on a broker it controls (a spoofed
   * Wi-Fi or DNS name: the site broker's login refuses retired nodes, so its ACL stops this
   * there), signs haves with the old key. isTrustedCoordinator asks trustedNode(key, seq) at the
   * seq of the coordinator's feed held here, which is <= lastSeq: still trusted.
   * Harm: the edge keeps confirming its rules fresh (DESIGN §6) while it hears no new rule
   * (a suspension never arrives; a high-risk machine stays usable), and believes the thief
   * acknowledges entries it never got (an outbox pruned on that acknowledgement loses them).
   * Fix: a have is signed now, not at a feed position: a retired or replaced node confirms and
   * acknowledges nothing (check retirement itself, not trust at a seq).
   */
  it('a have signed by a retired coordinator neither confirms rules fresh nor acknowledges', async () => {
    const { broker, t, c, e, C, E, admin } = await world();
    const body = decision(Date.now());
    e.ledger.ingest([c.ledger.append(C, 'access.decision', body).entry]);
    e.ledger.append(E, 'access.decision', body); // not yet sent: only a true acknowledgement may say the coordinator holds it
    c.sync.tick();
    await broker.settle();
    const fresh = e.sync.rulesFreshAt!;
    expect(fresh).not.toBeNull();
    e.ledger.ingest([admin.write('node.retire', { node: C.publicKey, lastSeq: 1, reason: 'stolen' })]);
    await new Promise((r) => setTimeout(r, 5));
    expect(e.sync.acknowledged).toBe(0);
    const unsigned = { kind: 'have' as const, node: C.publicKey, heads: e.ledger.heads(), at: Date.now() };
    await broker.client('thief').publish(t.have(C.publicKey), encodeSyncMessage({ ...unsigned, sig: signDomain(SIGNING_DOMAINS.sync, unsigned, C) }));
    await broker.settle();
    expect(e.sync.rulesFreshAt).toBe(fresh);
    expect(e.sync.acknowledged).toBe(0);
  });

  // Safe: malformed payloads on every topic are counted and dropped; nothing throws, nothing changes.
  it('deeply nested, non-UTF-8, __proto__ and over-long payloads on every topic are dropped', async () => {
    const { broker, t, C, e, admin } = await world();
    const digest = e.ledger.digest();
    const deep = `{"kind":"have","node":"${C.publicKey}","heads":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
    const payloads = [deep, '{"__proto__":{"kind":"want"},"kind":"want","node":"x","ranges":[]}', '\uFFFF\uD800', `{"kind":"batch","node":"${C.publicKey}"}\n${'\n'.repeat(10_001)}`].map((x) => Buffer.from(x));
    payloads.push(Buffer.from([0xff, 0xfe, 0x00]));
    const rogue = broker.client('rogue');
    const before = e.sync.counters.invalid;
    for (const topic of [t.feed(admin.id), t.head(admin.id), t.have(C.publicKey), t.want(C.publicKey, e.key.publicKey), t.batch(C.publicKey, e.key.publicKey)]) for (const pl of payloads) await rogue.publish(topic, pl);
    await broker.settle();
    expect(e.sync.counters.invalid - before).toBe(25);
    expect(e.ledger.digest()).toBe(digest);
  });

  /*
   * Safe: a live entry that arrives just before stop(), whose flushLive runs after the ledger
   * is closed, is reported and dropped (ingest's LEDGER_CLOSED is caught; heads() and the
   * publishes after it do not throw), so nothing escapes into the event loop.
   */
  it('a live entry arriving just before stop() does not throw from the event loop once the ledger is closed', async () => {
    const { site, admin, E } = syncSite();
    const broker = new MemoryBroker({ seed: 7 });
    const t = topics(site.site);
    const ledger = open(site.site);
    ledger.ingest(admin.feed);
    const sync = new PubSubSync({ bus: broker.client(E.publicKey), store: ledgerSyncStore(ledger), site: site.site, key: E, intervalMs: 0 });
    await sync.start();
    await broker.settle();
    const next = admin.write('member.put', memberBody('m9'));
    await broker.client('admin-tool').publish(t.feed(admin.id), Buffer.from(encodeEntry(next)));
    const queued: Array<() => void> = [];
    const real = globalThis.setImmediate;
    globalThis.setImmediate = ((fn: () => void) => (queued.push(fn), real(() => undefined))) as unknown as typeof setImmediate;
    try {
      broker.step();
    } finally {
      globalThis.setImmediate = real;
    }
    await sync.stop();
    ledger.close();
    expect(queued.length).toBeGreaterThan(0);
    expect(() => queued.forEach((f) => f())).not.toThrow();
  });
});

/** A client of a new broker whose batch publishes resolve only when the test lets them (a broker withholding PUBACKs). */

/** The longest the event loop went without a turn while `run` ran (ms). */
async function longestBlock(run: () => Promise<void>): Promise<number> {
  let worst = 0;
  let last = performance.now();
  let on = true;
  const loop = () => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
    if (on) setImmediate(loop);
  };
  setImmediate(loop);
  await run();
  on = false;
  return worst;
}
