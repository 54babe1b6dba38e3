/**
 * A small site for the ledger's sync attack tests: an admin, coordinators C and C2, edges E and
 * D (D's feed holding `dEntries` access decisions), and replicas running PubSubSync on a bus.
 */
import { join } from 'node:path';
import { topics, type AnyEntry, type BodyOf, type KeyPair } from '@keymesh/protocol';
import { Ledger, PubSubSync, ledgerSyncStore, type Bus, type PubSubSyncOptions } from '@keymesh/ledger';
import { MemoryBroker } from './memory-broker.js';
import { TestSite, memberBody, resourceBody, testCard, testKey } from './site.js';
import { tempDir } from './temp-files.js';

export const SYNC_T0 = 1_700_000_000_000;

export function decisionBody(at: number): BodyOf<'access.decision'> {
  return { resource: 'door', credential: { kind: 'card', card: testCard('04a1b2c3') }, allow: false, reason: 'UNKNOWN_CARD', member: null, at };
}

let dir: string | undefined;
let n = 0;
function openLedger(site: string): Ledger {
  dir ??= tempDir();
  return Ledger.open(join(dir, `sync-${n++}.db`), { site, durability: 'process' });
}

export function syncSite(dEntries = 0) {
  const site = new TestSite();
  const admin = site.admins[0]!;
  const [C, E, C2, D] = [testKey(50), testKey(51), testKey(52), testKey(53)];
  for (const [k, role] of [[C, 'coordinator'], [E, 'edge'], [C2, 'coordinator'], [D, 'edge']] as const) {
    admin.write('node.enrol', { node: k.publicKey, name: `${role} ${k.publicKey.slice(0, 4)}`, role, resources: role === 'edge' ? ['door'] : [] });
  }
  admin.write('resource.put', resourceBody('door', { name: 'Front door', kind: 'door' }));
  admin.write('member.put', memberBody('m1'));
  admin.write('card.bind', { card: testCard('04a1b2c3'), member: 'm1' });
  let dLines: string[] = [];
  if (dEntries > 0) {
    const src = openLedger(site.site);
    src.ingest(admin.feed);
    src.appendMany(D, Array.from({ length: dEntries }, () => ({ type: 'access.decision' as const, body: decisionBody(SYNC_T0) })));
    dLines = src.readEncoded(D.publicKey, 1, dEntries);
    src.close();
  }
  return { site, admin, C, E, C2, D, dLines, t: topics(site.site) };
}

export interface SyncPeer { key: KeyPair; ledger: Ledger; sync: PubSubSync }
const running: SyncPeer[] = [];

/** A replica on `bus` holding `seed`, its sync started (peers open unless `o` says otherwise). */
export async function syncPeer(bus: Bus, site: string, key: KeyPair, seed: ReadonlyArray<AnyEntry | string>, o: Partial<PubSubSyncOptions> = {}): Promise<SyncPeer> {
  const ledger = openLedger(site);
  ledger.ingest([...seed] as AnyEntry[]);
  const sync = new PubSubSync({ bus, store: ledgerSyncStore(ledger), site, key, intervalMs: 0, openPeers: true, ...o });
  await sync.start();
  const p = { key, ledger, sync };
  running.push(p);
  return p;
}

/** Stops every replica syncPeer started and closes its ledger (afterAll). */
export async function stopSyncPeers(): Promise<void> {
  for (const p of running.splice(0)) (await p.sync.stop(), p.ledger.close());
}

/** A bus for `clientId` whose batch publishes are acknowledged only when the test releases `held` (a stalled broker). */
export function stallingBatches(clientId: string, seed: number): { broker: MemoryBroker; bus: Bus; held: Array<() => void> } {
  const broker = new MemoryBroker({ seed });
  const held: Array<() => void> = [];
  const inner = broker.client(clientId);
  const bus: Bus = {
    get connected() { return inner.connected; },
    publish: (topic, payload, o) => topic.includes('/batch/') ? inner.publish(topic, payload, o).then(() => new Promise<void>((r) => held.push(r))) : inner.publish(topic, payload, o),
    subscribe: (f, h) => inner.subscribe(f, h),
    unsubscribe: (f, h) => inner.unsubscribe(f, h),
    onConnection: (l) => inner.onConnection(l),
  };
  return { broker, bus, held };
}
