/**
 * A hostile peer on the bus against PubSubSync (red team). `it.failing` marks an attack that
 * still works: the test asserts the safe behaviour, so it fails while the bug is there (and
 * jest reports it as passing); when the fix lands, turn it into `it`. Each says the attack, the
 * harm, whether the broker ACL of DESIGN §3 stops it, and the fix suggested.
 */
import { describe, it, expect, afterAll } from '@jest/globals';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
void performance;
import { topics, type AnyEntry, type BodyOf, type KeyPair } from '@keymesh/protocol';
import { MemoryBroker, TestSite, memberBody, resourceBody, testCard, testKey, tempDir, type PublishRecord } from '@keymesh/testkit';
import type { Bus } from '../bus/bus.js';
import { Ledger } from '../ledger.js';
import { decodeSyncMessage, encodeSyncMessage } from './codec.js';
import { ledgerSyncStore } from './ledger-store.js';
import { PubSubSync, type PubSubSyncOptions } from './pubsub.js';

const dir = tempDir();
let n = 0;
const open = (site: string) => Ledger.open(join(dir, `a${n++}.db`), { site, durability: 'process' });
const cleanup: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanup.splice(0)) await c();
});

interface Peer { key: KeyPair; ledger: Ledger; sync: PubSubSync }

/** Admin, coordinator C, edge E, and an enrolled edge D whose feed holds `dEntries` decisions (the catch-up material). */
function makeSite(dEntries = 0) {
  const site = new TestSite();
  const admin = site.admins[0]!;
  const [C, E, D] = [testKey(50), testKey(51), testKey(53)];
  admin.write('node.enrol', { node: C.publicKey, name: 'coordinator', role: 'coordinator', resources: [] });
  admin.write('node.enrol', { node: E.publicKey, name: 'front door', role: 'edge', resources: ['door'] });
  admin.write('node.enrol', { node: D.publicKey, name: 'laser', role: 'edge', resources: ['door'] });
  admin.write('resource.put', resourceBody('door', { name: 'Front door', kind: 'door' }));
  admin.write('member.put', memberBody('m1'));
  admin.write('card.bind', { card: testCard('04a1b2c3'), member: 'm1' });
  let dLines: string[] = [];
  if (dEntries > 0) {
    const src = open(site.site);
    src.ingest(admin.feed);
    const body: BodyOf<'access.decision'> = { resource: 'door', credential: { kind: 'card', card: testCard('04a1b2c3') }, allow: false, reason: 'UNKNOWN_CARD', member: null, at: 1_700_000_000_000 };
    src.appendMany(D, Array.from({ length: dEntries }, () => ({ type: 'access.decision' as const, body })));
    dLines = src.readEncoded(D.publicKey, 1, dEntries);
    src.close();
  }
  return { site, admin, C, E, D, dLines };
}

async function peer(bus: Bus, site: string, key: KeyPair, seed: ReadonlyArray<AnyEntry | string>, o: Partial<PubSubSyncOptions> = {}): Promise<Peer> {
  const ledger = open(site);
  ledger.ingest([...seed] as AnyEntry[]);
  const sync = new PubSubSync({ bus, store: ledgerSyncStore(ledger), site, key, intervalMs: 0, ...o });
  await sync.start();
  cleanup.push(async () => (await sync.stop(), ledger.close()));
  return { key, ledger, sync };
}

function tap(broker: MemoryBroker, pred: (p: PublishRecord) => boolean): PublishRecord[] {
  const seen: PublishRecord[] = [];
  broker.onPublish((p) => pred(p) && seen.push(p));
  return seen;
}

const fakeKey = (i: number) => (0xa0000000 + i).toString(16).padStart(64, 'f');
const have = (node: string, heads: Record<string, number>) => encodeSyncMessage({ kind: 'have', node, heads });
const want = (node: string, to: string, ranges: Array<{ author: string; from: number; to: number }>) => encodeSyncMessage({ kind: 'want', node, to, ranges });

describe('PubSubSync under attack from a peer on the bus', () => {
  /*
   * Attack: a peer's have (unsigned is accepted) claims 1,024 feeds that do not exist (keys with
   * no authority, nothing signed by them anywhere). ACL: an unenrolled client is kept out, but
   * any one enrolled node (a stolen edge) can publish on its own have topic; without the ACL,
   * 256 invented peer ids x 1,024 feeds each (Sources' caps) make every plan() walk 262,144
   * targets against 256 claims.
   * Harm: every replica that hears it asks the liar for all 1,024 feeds, round after round
   * (~100 KB of wants per replica per round per liar), for as long as the liar repeats it.
   * Fix: want only feeds of keys that hold authority here (store.hasAuthority), or that a
   * verified entry showed; count an unsigned have for nothing but sync lag.
   */
  it.failing('a have claiming 1,024 invented feeds makes the hearer ask for none of them', async () => {
    const { site, admin, E } = makeSite();
    const broker = new MemoryBroker({ seed: 1 });
    const e = await peer(broker.client(E.publicKey), site.site, E, admin.feed);
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
   * Attack: a peer claims a feed far ahead of everyone (D: 2^40). While a replica catches up
   * from its coordinator, Sources sees the ask made (up to the coordinator's claim) below the
   * target (the liar's claim), so every batch received plans the same ask again, for entries
   * already in flight. ACL: any enrolled node can claim this on its own have topic.
   * Harm: the catch-up is sent several times over (traffic and the coordinator's reads
   * multiplied), and the edge keeps asking the liar for 2^40 forever (sync lag 2^40 in status).
   * Fix: an ask covers up to the source's claim; re-ask only when that source's claim rose or
   * the round expired, never because another peer claims more.
   */
  it.failing('a lying have (a feed at 2^40) does not multiply the catch-up a replica gets from its coordinator', async () => {
    const run = async (lie: boolean) => {
      let t0 = performance.now();
      const { site, admin, C, E, D, dLines } = makeSite(3000);
      console.log('site', performance.now() - t0); t0 = performance.now();
      const broker = new MemoryBroker({ seed: 2 });
      const t = topics(site.site);
      const c = await peer(broker.client(C.publicKey), site.site, C, [...admin.feed, ...dLines], { relay: true });
      const batches = tap(broker, (p) => p.topic === t.batch(C.publicKey, E.publicKey));
      if (lie) {
        const liar = testKey(91).publicKey;
        await broker.client(liar).publish(t.have(liar), have(liar, { [D.publicKey]: 2 ** 40 }));
      }
      const e = await peer(broker.client(E.publicKey), site.site, E, admin.feed, { upstream: [C.publicKey] });
      await broker.settle();
      c.sync.tick();
      await broker.settle();
      expect(e.ledger.heads()[D.publicKey]).toBe(3000);
      console.log(lie, batches.length, performance.now() - t0);
      return batches.length;
    };
    const honest = await run(false);
    const lied = await run(true);
    expect(lied).toBeLessThanOrEqual(Math.ceil(honest * 1.5));
  }, 20_000);

  /*
   * Attack: a want (or have, or batch) published with retain. The broker keeps it and hands it
   * to the addressee on every (re)subscription: after each reconnection the coordinator answers
   * a want made once, maybe by a node long gone. ACL: not stopped (a node may publish on its
   * own sync topics; the ACL does not forbid retain there).
   * Harm: a standing order for the whole ledger, replayed at every reconnect of the victim.
   * Fix: drop `m.retain` messages on sync/ topics (and have the ACL refuse retained publishes
   * there).
   */
  it.failing('a retained want is not answered again when the addressee reconnects', async () => {
    const { site, admin, C } = makeSite();
    const broker = new MemoryBroker({ seed: 3 });
    const t = topics(site.site);
    await peer(broker.client(C.publicKey), site.site, C, admin.feed, { relay: true });
    const R = testKey(92).publicKey;
    await broker.client(R).publish(t.want(R, C.publicKey), want(R, C.publicKey, [{ author: admin.id, from: 1, to: 100 }]), { qos: 1, retain: true });
    await broker.settle();
    const batches = tap(broker, (p) => p.topic === t.batch(C.publicKey, R));
    broker.partition([C.publicKey]);
    broker.heal([C.publicKey]);
    await broker.settle();
    expect(batches).toHaveLength(0);
  });
});
