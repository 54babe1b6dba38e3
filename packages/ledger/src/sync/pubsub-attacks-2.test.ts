/**
 * Red team, second round, against PubSubSync and its bus adapter. As in pubsub-attacks.test.ts,
 * `it.failing` marks an attack that still works: the test asserts the safe behaviour, so it fails
 * while the bug is there; when the fix lands, turn it into `it`. Each says attack, harm, fix.
 */
import { describe, it, expect, afterAll } from '@jest/globals';
import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { MIN_SYNC_MESSAGE_BYTES, SIGNING_DOMAINS, signDomain, topics, type KeyPair } from '@keymesh/protocol';
import { SYNC_T0 as T0, decisionBody, stallingBatches, stopSyncPeers, syncPeer, syncSite, MemoryBroker, RawFeed, testKey } from '@keymesh/testkit';
import type { MqttClient } from 'mqtt';
import { MqttJsBus } from '../bus/mqttjs.js';
import { encodeSyncMessage } from './codec.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  await stopSyncPeers();
  for (const c of cleanup.splice(0)) await c();
});




const decision = decisionBody;
const sign = <T extends object>(msg: T, k: KeyPair) => ({ ...msg, sig: signDomain(SIGNING_DOMAINS.sync, msg, k) });
let clock = T0;
const have = (k: KeyPair, heads: Record<string, number>, at = ++clock) => encodeSyncMessage(sign({ kind: 'have' as const, node: k.publicKey, heads, at }, k));
const want = (k: KeyPair, to: string, ranges: Array<{ author: string; from: number; to: number }>, forks?: Array<{ author: string; seq: number }>) =>
  encodeSyncMessage(sign({ kind: 'want' as const, node: k.publicKey, to, ranges, ...(forks ? { forks } : {}) }, k));
const batch = (from: string, to: string, entries: string[]) => encodeSyncMessage({ kind: 'batch', node: from, to, entries });
const bytesCount = (broker: MemoryBroker, topic: string, seen: number[] = []) => (broker.onPublish((p) => p.topic === topic && seen.push(p.payload.byteLength)), seen);

describe('PubSubSync under attack, second round', () => {
  /*
   * Attack (DESIGN §10, no attacker needed): an edge re-imaged with its key file kept. Its signed
   * retained `head/<self>` (seq 3) is on the broker, but onEntry drops everything on a topic of its
   * own key, so it never reaches pending, where the own-feed guard (SELF_FEED_BEHIND) looks.
   * Harm: with the coordinator away the node appends seq 1 again: its feed forks (SELF_FORK
   * everywhere). Sync exposes nothing the node could wait on. Fix: drop an own-key entry only
   * when seq <= the local head; else verify and take it (pending), and count it in sync lag.
   */
  it('an edge restarted with an empty ledger and the same key learns its own head from the broker before appending', async () => {
    const { site, admin, E, C, t } = syncSite();
    const broker = new MemoryBroker({ seed: 11 });
    const first = broker.client(E.publicKey);
    const before = await syncPeer(first, site.site, E, admin.feed, { upstream: [C.publicKey] });
    before.sync.publishEntries(before.ledger.appendMany(E, [1, 2, 3].map((i) => ({ type: 'access.decision' as const, body: decision(T0 + i) }))).map((r) => r.entry));
    await broker.settle();
    expect(broker.retained().has(t.head(E.publicKey))).toBe(true);
    await before.sync.stop();
    first.end();
    const after = await syncPeer(broker.client(E.publicKey), site.site, E, admin.feed, { upstream: [C.publicKey] });
    await broker.settle();
    expect(() => after.ledger.append(E, 'access.decision', decision(T0 + 9))).toThrow(expect.objectContaining({ code: 'SELF_FEED_BEHIND' }));
  });

  /*
   * Attack: stop() then start() on the same sync (an agent's reconnect logic). `stopped` is never
   * reset: the intake stores nothing for ever. Harm: the node looks online (haves, statuses) but a
   * suspension never arrives, silently. Fix: start() clears `stopped` (or refuses, typed error).
   */
  it('a sync stopped and started again still stores what it receives', async () => {
    const { site, admin, E, C, D, dLines, t } = syncSite(5);
    const broker = new MemoryBroker({ seed: 12 });
    const e = await syncPeer(broker.client(E.publicKey), site.site, E, admin.feed, { upstream: [C.publicKey] });
    await e.sync.stop();
    await e.sync.start();
    const cb = broker.client(C.publicKey);
    await cb.publish(t.have(C.publicKey), have(C, { [admin.id]: admin.feed.length, [D.publicKey]: 5 })); // E asks C for D 1..5
    await broker.settle();
    await cb.publish(t.batch(C.publicKey, E.publicKey), batch(C.publicKey, E.publicKey, dLines), { qos: 1 });
    await broker.settle();
    expect(e.ledger.heads()[D.publicKey]).toBe(5);
  });

  /*
   * Attack: start() twice (a caller that starts on every 'connect'): handlers wrapped in new
   * closures are subscribed again; the first interval timer is overwritten, never cleared.
   * Harm: every message handled twice (each catch-up sent twice); with intervalMs > 0 a stopped
   * sync keeps publishing haves. Fix: start() is idempotent, or throws a typed error.
   */
  it('start() twice does not answer each want twice', async () => {
    const { site, admin, C, t } = syncSite();
    const broker = new MemoryBroker({ seed: 13 });
    const c = await syncPeer(broker.client(C.publicKey), site.site, C, admin.feed, { relay: true });
    await c.sync.start();
    const R = testKey(94);
    await broker.client(R.publicKey).publish(t.want(R.publicKey, C.publicKey), want(R, C.publicKey, [{ author: admin.id, from: 1, to: 3 }]));
    await broker.settle();
    expect(c.sync.counters.wantsAnswered).toBe(1);
  });

  /*
   * Attack: the ledger is closed before sync is stopped (shutdown in the wrong order, an error
   * path) while the timer runs. tick() reads the store unguarded: heads() throws a raw TypeError
   * (not LEDGER_CLOSED); the intake's setImmediate drain rethrows LEDGER_CLOSED likewise.
   * Harm: an uncaught exception from a timer kills the edge process (doors stop deciding).
   * Fix: tick(), announce() and the drain catch store errors (and stop() on a closed ledger).
   */
  it('tick() on a sync whose ledger was closed under it does not throw', async () => {
    const { site, admin, E, C } = syncSite();
    const broker = new MemoryBroker({ seed: 14 });
    const e = await syncPeer(broker.client(E.publicKey), site.site, E, admin.feed, { upstream: [C.publicKey] });
    e.ledger.close();
    expect(() => e.sync.tick()).not.toThrow();
  });

  /*
   * Attack: any enrolled node R (the ACL allows its own sync topics) sends unasked batches of
   * 10,000 junk lines. Batches from anyone go into one FIFO intake for all peers (20,000 lines).
   * Harm: the upstream's answer to the victim's own want finds it full and is dropped; a steady
   * flood starves catch-up for ever (a suspension never arrives). Fix: take a batch only from a
   * peer with a want outstanding, only the asked ranges; a share of the intake per sender.
   */
  it('unasked junk batches from one peer do not make the upstream’s batch be dropped', async () => {
    const { site, admin, E, C, D, dLines, t } = syncSite(5);
    const broker = new MemoryBroker({ seed: 15 });
    const e = await syncPeer(broker.client(E.publicKey), site.site, E, admin.feed, { upstream: [C.publicKey] });
    const cb = broker.client(C.publicKey);
    await cb.publish(t.have(C.publicKey), have(C, { [admin.id]: admin.feed.length, [D.publicKey]: 5 })); // E asks C for D 1..5
    await broker.settle();
    const R = testKey(95).publicKey;
    const rogue = broker.client(R);
    const junk = Array.from({ length: 10_000 }, (_, i) => `j${i}`);
    await rogue.publish(t.batch(R, E.publicKey), batch(R, E.publicKey, junk));
    await rogue.publish(t.batch(R, E.publicKey), batch(R, E.publicKey, junk));
    await cb.publish(t.batch(C.publicKey, E.publicKey), batch(C.publicKey, E.publicKey, dLines));
    while (broker.step()); // all three delivered before the intake drains
    await broker.settle();
    expect(e.ledger.heads()[D.publicKey]).toBe(5);
  });

  /*
   * Attack: R sends wants naming only a forked feed in `forks` while C's PUBACKs are withheld.
   * Fork proofs are sent at once (sendForkProofs bypasses the outbox and the window check).
   * Harm: each want adds one unacknowledged batch: the window and sliceMs pacing are bypassed,
   * publishes pile up until publishTimeoutMs. Fix: queue proofs in the peer's outbox (paced,
   * congestion-checked); send one fork's proofs to one peer at most once per round.
   */
  it('wants for fork proofs keep no more than `window` batches in flight to one peer', async () => {
    const { site, admin, C, D, dLines, t } = syncSite(3);
    const { broker, bus, held } = stallingBatches(C.publicKey, 16);
    const fork = new RawFeed(D, site.site, () => ({ wall: T0, logical: 77 })).write('access.decision', decision(T0 + 5));
    const c = await syncPeer(bus, site.site, C, [...admin.feed, ...dLines], { relay: true, window: 1 });
    c.ledger.ingest([fork.line]);
    expect(c.ledger.forks().map((f) => f.author)).toEqual([D.publicKey]);
    await broker.settle();
    const R = testKey(96);
    const rogue = broker.client(R.publicKey);
    for (let k = 0; k < 5; k++) await rogue.publish(t.want(R.publicKey, C.publicKey), want(R, C.publicKey, [], [{ author: D.publicKey, seq: 1 }]));
    await broker.settle();
    const inFlight = held.length;
    held.splice(0).forEach((r) => r());
    await broker.settle();
    expect(inFlight).toBeLessThanOrEqual(1);
  });

  /*
   * Attack: a client signs haves with 256 keys it made (no ACL on an external broker, or one
   * login allowed on sync/+). A have must be signed by the key its topic names, nothing more.
   * Harm: the coordinator (it hears every have) evicts real peers' state, least recently heard
   * first: ackBy, claims, the ledger's peers table; such keys' wants are answered too. Fix: take
   * haves and wants only from keys with authority here (store.hasAuthority); drop the rest.
   */
  it("haves signed by keys foreign to the site do not evict a real peer's acknowledgement", async () => {
    const { site, admin, E, C, t } = syncSite();
    const broker = new MemoryBroker({ seed: 17 });
    const c = await syncPeer(broker.client(C.publicKey), site.site, C, admin.feed, { relay: true, openPeers: false });
    await broker.client(E.publicKey).publish(t.have(E.publicKey), have(E, {}));
    await broker.settle();
    expect(c.sync.acknowledgedBy(E.publicKey)).toBe(0);
    const sybil = broker.client('sybil');
    for (let i = 0; i < 256; i++) await sybil.publish(t.have(testKey(1000 + i).publicKey), have(testKey(1000 + i), {}));
    await broker.settle();
    expect(c.sync.acknowledgedBy(E.publicKey)).toBeDefined();
  });

  /*
   * Attack (or misconfiguration): an edge with two upstream coordinators, C ahead and C2 lagging
   * (cut off from the admin, restored from a backup). Freshness keeps only the last claim heard.
   * Harm: an edge lacking a suspension C holds says its rules are fresh when C2 spoke last.
   * Fix: check against the highest seq any trusted upstream claimed recently (union of claims).
   */
  it('a lagging second coordinator does not confirm rules fresh while the first holds more', async () => {
    const { site, admin, E, C, C2, t } = syncSite();
    const broker = new MemoryBroker({ seed: 18 });
    const e = await syncPeer(broker.client(E.publicKey), site.site, E, admin.feed, { upstream: [C.publicKey, C2.publicKey] });
    await broker.settle();
    const held = e.ledger.heads()[admin.id]!;
    await broker.client(C.publicKey).publish(t.have(C.publicKey), have(C, { [admin.id]: held + 1 }, T0));
    await broker.client(C2.publicKey).publish(t.have(C2.publicKey), have(C2, { [admin.id]: held }, T0 + 1));
    await broker.settle();
    expect(e.sync.rulesFreshAt).toBeNull();
  });

  /*
   * Attack (DESIGN §10 "coordinator disk lost"): the wiped coordinator's have names nothing of
   * the edge's feed; `acked = heads[self] ?? acked` keeps the old figure (acknowledgedBy says 0).
   * Harm: the status says the coordinator holds the feed; an outbox pruned by `acknowledged`
   * (DESIGN §7) would delete entries that exist nowhere else. A wiped coordinator also confirms
   * freshness. Fix: a non-partial trusted have sets acked to heads[self] ?? 0, haves ordered by `at`.
   */
  it('a coordinator that lost its disk no longer counts as acknowledging the edge’s feed', async () => {
    const { site, admin, E, C, t } = syncSite();
    const broker = new MemoryBroker({ seed: 19 });
    const e = await syncPeer(broker.client(E.publicKey), site.site, E, admin.feed, { upstream: [C.publicKey] });
    const cb = broker.client(C.publicKey);
    await cb.publish(t.have(C.publicKey), have(C, { [admin.id]: admin.feed.length, [E.publicKey]: 3 }, T0));
    await broker.settle();
    expect(e.sync.acknowledged).toBe(3);
    await cb.publish(t.have(C.publicKey), have(C, {}, T0 + 60_000));
    await broker.settle();
    expect(e.sync.acknowledged).toBe(e.sync.acknowledgedBy(C.publicKey) ?? 0);
  });

  /*
   * Attack: an old signed have of the coordinator delivered again (QoS 1 redelivery, reordering,
   * a replay where the ACL is missing); nothing compares its `at` with the last one heard.
   * Harm: the acknowledgement goes back (3 → 1); the old claim becomes the freshness reference
   * (freshAt itself never moves back). Fix: per peer, drop a have whose `at` is not newer.
   */
  it('an old have of the coordinator delivered again does not move the acknowledgement back', async () => {
    const { site, admin, E, C, t } = syncSite();
    const broker = new MemoryBroker({ seed: 20 });
    const e = await syncPeer(broker.client(E.publicKey), site.site, E, admin.feed, { upstream: [C.publicKey] });
    const cb = broker.client(C.publicKey);
    const old = have(C, { [admin.id]: admin.feed.length, [E.publicKey]: 1 }, T0);
    await cb.publish(t.have(C.publicKey), old);
    await cb.publish(t.have(C.publicKey), have(C, { [admin.id]: admin.feed.length, [E.publicKey]: 3 }, T0 + 60_000));
    await broker.settle();
    await cb.publish(t.have(C.publicKey), old);
    await broker.settle();
    expect(e.sync.acknowledged).toBe(3);
  });

  /*
   * Attack: stop() while a paced catch-up is half sent: the engine's outbox keeps pumping.
   * Harm: a stopped node keeps reading its ledger and publishing; after ledger.close() the rest
   * turns into errors. Fix: stop() clears the engine's outboxes, pump() checks a stopped flag.
   */
  it('no batch is published after stop()', async () => {
    const { site, admin, C, D, dLines, t } = syncSite(300);
    const broker = new MemoryBroker({ seed: 21 });
    const c = await syncPeer(broker.client(C.publicKey), site.site, C, [...admin.feed, ...dLines], { relay: true, window: 1, maxMessageBytes: MIN_SYNC_MESSAGE_BYTES });
    await broker.settle();
    const R = testKey(97);
    const sent = bytesCount(broker, t.batch(C.publicKey, R.publicKey));
    await broker.client(R.publicKey).publish(t.want(R.publicKey, C.publicKey), want(R, C.publicKey, [{ author: D.publicKey, from: 1, to: 300 }]));
    while (broker.step()); // C receives the want;
    await new Promise((r) => setImmediate(r)); // its first batch goes out in the next turn; the window is then full
    await c.sync.stop();
    const atStop = sent.length;
    await broker.settle();
    expect(atStop).toBeGreaterThan(0);
    expect(sent.length).toBe(atStop);
  });

  /*
   * Attack: a handler on the MqttJsBus throws (a bug, or a payload that trips it): the adapter
   * calls handlers inside MQTT.js's 'message' event unguarded. Harm: the error escapes into the
   * client's packet handling and the other handlers of that message never run (sync misses a
   * head). Fix: try/catch around each handler in the adapter, reported through an error hook.
   */
  it('a throwing handler on MqttJsBus neither escapes into MQTT.js nor starves the other handlers', async () => {
    const client = Object.assign(new EventEmitter(), { connected: true, subscribeAsync: async () => undefined, publishAsync: async () => undefined });
    const bus = new MqttJsBus(client as unknown as MqttClient);
    const got: string[] = [];
    await bus.subscribe('a/#', () => { throw new Error('handler bug'); });
    await bus.subscribe('a/+', (m) => void got.push(m.topic));
    expect(() => client.emit('message', 'a/b', Buffer.from('x'), { retain: false })).not.toThrow();
    expect(got).toEqual(['a/b']);
  });

  /*
   * Attack: a peer (any enrolled node) repeats a want for a whole feed as soon as each answer
   * ends: 300 bytes cost the answerer the whole range each time. Harm: a stolen edge keeps a
   * coordinator (or an edge) reading and sending its ledger in a loop. Fix: per peer, ranges
   * sent within the round are not sent again (a real loss is asked again the next round).
   */
  it('the same want repeated within a round is not answered in full each time', async () => {
    const { site, admin, C, D, dLines, t } = syncSite(300);
    const broker = new MemoryBroker({ seed: 23 });
    await syncPeer(broker.client(C.publicKey), site.site, C, [...admin.feed, ...dLines], { relay: true });
    await broker.settle();
    const R = testKey(98);
    const rogue = broker.client(R.publicKey);
    const sent = bytesCount(broker, t.batch(C.publicKey, R.publicKey));
    for (let k = 0; k < 5; k++) {
      await rogue.publish(t.want(R.publicKey, C.publicKey), want(R, C.publicKey, [{ author: D.publicKey, from: 1, to: 300 }]));
      await broker.settle();
    }
    const once = dLines.reduce((sum, l) => sum + Buffer.byteLength(l) + 1, 0);
    expect(sent.reduce((a, b) => a + b, 0)).toBeLessThan(2 * once);
  });

  /*
   * Attack: 12 peers (edges after a coordinator restart, or made-up keys) want a catch-up at
   * once. Each peer's pump has its own setImmediate and may run sliceMs: one loop iteration
   * runs every peer's turn. Harm: the 20 ms budget (DESIGN §7) holds per peer: the loop blocks
   * ~12 x sliceMs. Fix: one scheduler, one slice per iteration, round-robin (window 1 here: a
   * batch is a peer's turn, the count stands in for the time).
   */
  it('the batches of one event-loop iteration do not grow with the number of peers served', async () => {
    const { site, admin, C, D, dLines } = syncSite(1000);
    const broker = new MemoryBroker({ seed: 24 });
    // sliceMs 0: a turn is one batch, so the count per iteration stands for the slice shared by all peers.
    await syncPeer(broker.client(C.publicKey), site.site, C, [...admin.feed, ...dLines], { relay: true, window: 1, maxMessageBytes: MIN_SYNC_MESSAGE_BYTES, sliceMs: 0 });
    await broker.settle();
    const t = topics(site.site);
    const perIteration = [0];
    let on = true;
    const probe = () => (perIteration.push(0), on && setImmediate(probe));
    broker.onPublish((p) => p.clientId === C.publicKey && p.topic.includes('/batch/') && perIteration[perIteration.length - 1]!++);
    for (let i = 0; i < 12; i++) {
      const R = testKey(110 + i);
      await broker.client(R.publicKey).publish(t.want(R.publicKey, C.publicKey), want(R, C.publicKey, [{ author: D.publicKey, from: 1, to: 1000 }]));
    }
    setImmediate(probe);
    await broker.settle();
    on = false;
    expect(Math.max(...perIteration)).toBeLessThanOrEqual(2);
  });

  // Safe: a replayed old have and a coordinator clock far ahead cannot move "fresh at" forward.
  it('a replayed have and a have with a future `at` never date the rules fresher than the node’s own now', async () => {
    const { site, admin, E, C, t } = syncSite();
    const broker = new MemoryBroker({ seed: 22 });
    const e = await syncPeer(broker.client(E.publicKey), site.site, E, admin.feed, { upstream: [C.publicKey] });
    const cb = broker.client(C.publicKey);
    const heads = { [admin.id]: admin.feed.length };
    const old = have(C, heads, e.ledger.now() - 3_600_000);
    await cb.publish(t.have(C.publicKey), have(C, heads, e.ledger.now() - 60_000));
    await broker.settle();
    const fresh = e.sync.rulesFreshAt;
    expect(fresh).not.toBeNull();
    await cb.publish(t.have(C.publicKey), old);
    await broker.settle();
    expect(e.sync.rulesFreshAt).toBe(fresh);
    await cb.publish(t.have(C.publicKey), have(C, heads, e.ledger.now() + 86_400_000));
    await broker.settle();
    expect(e.sync.rulesFreshAt!).toBeLessThanOrEqual(e.ledger.now());
  });
});

/** A bus for `clientId` whose batch publishes resolve only when the test releases them (PUBACKs withheld). */
