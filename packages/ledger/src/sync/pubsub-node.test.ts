import { describe, it, expect, afterAll } from '@jest/globals';
import { Buffer } from 'node:buffer';
import { join } from 'node:path';
import { NodeStatus, SIGNING_DOMAINS, encodeEntry, signDomain, topics, verifyDomain, type AnyEntry, type KeyPair } from '@keymesh/protocol';
import { MemoryBroker, TestSite, memberBody, resourceBody, testCard, testKey, tempDir, type PublishRecord } from '@keymesh/testkit';
import { Ledger } from '../ledger.js';
import { decodeSyncMessage, encodeSyncMessage } from './codec.js';
import { MAX_ASKED_A_PEER } from './sources.js';
import { ledgerSyncStore } from './ledger-store.js';
import { PubSubSync, type PubSubSyncOptions } from './pubsub.js';
import { signSync } from './signed.js';
import type { IngestResult } from '../types.js';

const dir = tempDir();
let n = 0;
const open = (site: string, path = join(dir, `n${n++}.db`)) => Ledger.open(path, { site, durability: 'process' });

interface Peer { key: KeyPair; ledger: Ledger; sync: PubSubSync; ingests: IngestResult[]; invalid: string[] }

/** A site with a coordinator C and an edge E enrolled by the admin; every replica starts with those entries. */
function makeSite() {
  const site = new TestSite();
  const admin = site.admins[0]!;
  const C = testKey(50);
  const E = testKey(51);
  admin.write('node.enrol', { node: C.publicKey, name: 'coordinator', role: 'coordinator', resources: [] });
  admin.write('node.enrol', { node: E.publicKey, name: 'front door', role: 'edge', resources: ['door'] });
  admin.write('node.enrol', { node: testKey(52).publicKey, name: 'back door', role: 'edge', resources: ['door'] });
  admin.write('resource.put', resourceBody('door', { name: 'Front door', kind: 'door' }));
  admin.write('member.put', memberBody('m1'));
  admin.write('card.bind', { card: testCard('04a1b2c3'), member: 'm1' });
  return { site, admin, C, E };
}

async function peer(broker: MemoryBroker, site: string, key: KeyPair, seed: readonly AnyEntry[], o: Partial<PubSubSyncOptions> = {}, ledger = open(site)): Promise<Peer> {
  ledger.ingest([...seed]);
  const ingests: IngestResult[] = [];
  const invalid: string[] = [];
  const sync = new PubSubSync({
    bus: broker.client(key.publicKey), store: ledgerSyncStore(ledger), site, key, intervalMs: 0,
    onIngest: (r) => ingests.push(r), onInvalid: (r) => invalid.push(r), ...o,
  });
  await sync.start();
  return { key, ledger, sync, ingests, invalid };
}

const stopAll: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const s of stopAll) await s();
});

async function world() {
  const s = makeSite();
  const broker = new MemoryBroker({ seed: 3 });
  const known = s.admin.feed;
  const c = await peer(broker, s.site.site, s.C, known, { relay: true });
  const e = await peer(broker, s.site.site, s.E, known, { upstream: [s.C.publicKey] });
  stopAll.push(async () => {
    for (const p of [c, e]) (await p.sync.stop(), p.ledger.close());
  });
  await broker.settle();
  return { ...s, broker, c, e, t: topics(s.site.site) };
}

function tap(broker: MemoryBroker): PublishRecord[] {
  const seen: PublishRecord[] = [];
  broker.onPublish((p) => seen.push(p));
  return seen;
}

function decision(w: { ledger: Ledger; key: KeyPair }) {
  return w.ledger.append(w.key, 'access.decision', { resource: 'door', credential: { kind: 'card', card: testCard('04a1b2c3') }, allow: true, reason: 'ALLOWED', member: 'm1', at: Date.now() } as never);
}

describe('PubSubSync between a coordinator and an edge', () => {
  it("an edge's decision reaches the coordinator live; the coordinator's signed have acknowledges it and confirms the edge's rules fresh, persisted", async () => {
    const { broker, c, e, C } = await world();
    expect(e.sync.rulesFreshAt).toBeNull();
    const { entry } = decision(e);
    e.sync.publishEntries([entry]);
    await broker.settle();
    expect(c.ledger.heads()[e.key.publicKey]).toBe(1);
    c.sync.tick();
    await broker.settle();
    expect(e.sync.acknowledged).toBe(1);
    expect(e.sync.acknowledgedBy(C.publicKey)).toBe(1);
    const fresh = e.sync.rulesFreshAt;
    expect(fresh).not.toBeNull();
    // The moment survives a restart (DESIGN §6: a reboot does not make a machine stale).
    const again = new PubSubSync({ bus: broker.client('restarted'), store: ledgerSyncStore(e.ledger), site: c.ledger.site, key: e.key, intervalMs: 0 });
    expect(again.rulesFreshAt).toBe(fresh);
  });

  it('rules are not confirmed fresh while the edge lacks an entry the coordinator holds; the retained head brings it, then they are', async () => {
    const { broker, c, e, admin } = await world();
    c.sync.tick();
    await broker.settle();
    const before = e.sync.rulesFreshAt!;
    expect(before).not.toBeNull();
    broker.partition([e.key.publicKey]);
    const suspend = admin.write('member.put', memberBody('m1', { status: 'suspended' }));
    const out = c.sync.submit(canonical(suspend));
    expect(out.ok).toBe(true);
    await broker.settle();
    // Partitioned, the edge hears nothing; a have it cannot hear confirms nothing either.
    c.sync.tick();
    await broker.settle();
    expect(e.ledger.heads()[admin.id]).toBe(admin.feed.length - 1);
    expect(e.sync.rulesFreshAt).toBe(before);
    broker.heal([e.key.publicKey]);
    await broker.settle(); // the retained head/<admin> turns into a want of the coordinator
    expect(e.ledger.heads()[admin.id]).toBe(admin.feed.length);
    expect(e.ingests.some((r) => r.changed.includes('member/m1'))).toBe(true);
    c.sync.tick();
    await broker.settle();
    expect(e.sync.rulesFreshAt!).toBeGreaterThanOrEqual(before);
    expect(e.ledger.digest()).toBe(c.ledger.digest());
  });

  it('a have signed by a node that is not a trusted coordinator confirms nothing and acknowledges nothing upstream', async () => {
    const { broker, e, t, C } = await world();
    const rogue = testKey(77);
    const bus = broker.client(rogue.publicKey);
    const heads = e.ledger.heads();
    const unsigned = { kind: 'have' as const, node: rogue.publicKey, heads: { ...heads, [e.key.publicKey]: 99 }, at: Date.now() };
    await bus.publish(t.have(rogue.publicKey), encodeSyncMessage({ ...unsigned, sig: signDomain(SIGNING_DOMAINS.sync, unsigned, rogue) }));
    // And one on the coordinator's topic naming it, signed by the rogue.
    const forged = { ...unsigned, node: C.publicKey };
    await bus.publish(t.have(forged.node), encodeSyncMessage({ ...forged, sig: signDomain(SIGNING_DOMAINS.sync, forged, rogue) }));
    await broker.settle();
    expect(e.sync.rulesFreshAt).toBeNull();
    expect(e.sync.acknowledged).toBeNull();
    expect(e.sync.counters.invalid).toBe(1);
  });

  it("a coordinator's have that names only some of its feeds (partial) confirms nothing fresh, but still acknowledges", async () => {
    const { broker, e, t, C } = await world();
    decision(e);
    const unsigned = { kind: 'have' as const, node: C.publicKey, heads: { [e.key.publicKey]: 1 }, at: Date.now(), partial: true as const };
    await broker.client('coordinator-2').publish(t.have(C.publicKey), encodeSyncMessage(signSync(unsigned, C)));
    await broker.settle();
    expect(e.sync.acknowledged).toBe(1);
    expect(e.sync.rulesFreshAt).toBeNull();
  });

  it("publishes a signed status: own head, what the coordinator acknowledged, freshness, held-for-newer-version", async () => {
    const { broker, c, e, t } = await world();
    decision(e);
    e.sync.publishEntries([e.ledger.headOf(e.key.publicKey)!.line]);
    await broker.settle();
    c.sync.tick();
    await broker.settle();
    e.sync.tick();
    await broker.settle();
    const raw = broker.retained().get(t.status(e.key.publicKey));
    expect(raw).toBeDefined();
    const status = NodeStatus.parse(JSON.parse(Buffer.from(raw!).toString()));
    const { sig, ...body } = status;
    expect(verifyDomain(SIGNING_DOMAINS.sync, body, sig!, e.key.publicKey)).toBe(true);
    expect(status).toMatchObject({ node: e.key.publicKey, online: true, head: 1, acked: 1, heldForNewerVersion: 0, syncLag: 0 });
    expect(status.rulesFreshAt).toBe(e.sync.rulesFreshAt);
  });

  it('a replica that starts late learns every feed from the retained heads alone, asking the coordinator', async () => {
    const { broker, c, e, site } = await world();
    decision(e);
    e.sync.publishEntries([e.ledger.headOf(e.key.publicKey)!.line]);
    await broker.settle();
    const seen = tap(broker);
    const late = await peer(broker, site.site, testKey(52), [site.genesis], { upstream: [c.key.publicKey] });
    await broker.settle();
    expect(late.ledger.digest()).toBe(c.ledger.digest());
    expect(late.ledger.heads()).toEqual(c.ledger.heads());
    const wants = seen.filter((p) => p.topic.includes('/want/'));
    expect(wants.length).toBeGreaterThan(0);
    expect(wants.every((p) => p.topic.endsWith(`/want/${c.key.publicKey}`) || p.topic.endsWith(`/want/${e.key.publicKey}`))).toBe(true);
    await late.sync.stop();
    late.ledger.close();
  });

  it('a long catch-up is asked in chunks the receiver can hold (a bus has no end-to-end flow control), and all of it arrives', async () => {
    const { broker, c, e, site } = await world();
    const body = { resource: 'door', credential: { kind: 'card' as const, card: testCard('04a1b2c3') }, allow: true, reason: 'ALLOWED' as const, member: 'm1', at: Date.now() };
    c.ledger.ingest(e.ledger.appendMany(e.key, Array.from({ length: 4500 }, () => ({ type: 'access.decision' as const, body }))).map((x) => x.entry));
    const asked: number[] = [];
    broker.onPublish((p) => {
      if (!p.topic.includes('/want/')) return;
      const d = decodeSyncMessage(p.payload);
      if (d.ok && d.msg.kind === 'want') asked.push(d.msg.ranges.reduce((n, r) => n + r.to - r.from + 1, 0));
    });
    const late = await peer(broker, site.site, testKey(52), [site.genesis], { upstream: [c.key.publicKey] });
    for (let round = 0; round < 4 && late.ledger.heads()[e.key.publicKey] !== 4500; round++) {
      for (const x of [c, late]) x.sync.tick();
      do await broker.settle(); while (late.sync.busy || c.sync.busy); // stored in slices after delivery
    }
    expect(late.ledger.heads()[e.key.publicKey]).toBe(4500);
    expect(asked.length).toBeGreaterThan(2);
    expect(Math.max(...asked)).toBeLessThanOrEqual(MAX_ASKED_A_PEER);
    await late.sync.stop();
    late.ledger.close();
  });

  it('hostile payloads are dropped with a reason and change nothing; the feed keeps flowing after them', async () => {
    const { broker, c, e, t, admin } = await world();
    const rogue = broker.client('rogue');
    const digest = e.ledger.digest();
    const other = admin.write('member.put', memberBody('m2'));
    const bad: Array<[string, Uint8Array]> = [
      [t.feed(c.key.publicKey), Buffer.from(canonical(other))], // an admin's entry on the coordinator's feed topic
      [t.feed(admin.id), Buffer.from('{"not":"an entry"}')],
      [t.feed(admin.id), Buffer.alloc(200_000, 0x7b)], // over the byte limit
      [t.head(admin.id), Buffer.from('\u0000\u0001')],
      [t.have(c.key.publicKey), Buffer.from('[]')],
      [t.have(c.key.publicKey), encodeSyncMessage({ kind: 'have', node: e.key.publicKey, heads: {} })], // names another node
      [t.batch(c.key.publicKey, e.key.publicKey), encodeSyncMessage({ kind: 'batch', node: c.key.publicKey, to: c.key.publicKey, entries: [canonical(other)] })], // addressed elsewhere
      [t.want(c.key.publicKey, e.key.publicKey), Buffer.from('{"kind":"want"')],
    ];
    for (const [topic, payload] of bad) await rogue.publish(topic, payload);
    await broker.settle();
    expect(e.ledger.digest()).toBe(digest);
    expect(e.sync.counters.invalid).toBeGreaterThanOrEqual(bad.length);
    expect(e.sync.counters.misaddressed).toBe(1);
    // The admin's entry still arrives, relayed by the coordinator.
    expect(c.sync.submit(canonical(other)).ok).toBe(true);
    await broker.settle();
    expect(e.ledger.member('m2')).toBeDefined();
  });

  it('submit is compare-and-set: an entry that does not extend the head held is refused with the head, and nothing is published', async () => {
    const { broker, c, admin } = await world();
    const a = admin.write('member.put', memberBody('m3'));
    const b = admin.write('member.put', memberBody('m4'));
    const seen = tap(broker);
    const out = c.sync.submit(canonical(b)); // skips a
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.code).toBe('NOT_HEAD');
    expect(out.head?.seq).toBe(admin.feed.length - 2);
    await broker.settle();
    expect(seen).toHaveLength(0);
    expect(c.sync.submit(canonical(a)).ok).toBe(true);
    expect(c.sync.submit(canonical(b)).ok).toBe(true);
  });
});

function canonical(e: AnyEntry): string {
  return encodeEntry(e);
}
