/** Starting points of the ledger's own tests: a founded site over a real ledger file, and rules on it. */
import { encodeEntry, type KeyPair } from '@keymesh/protocol';
import type { Ledger } from '@keymesh/ledger';
import { TestSite, memberBody, resourceBody, testCard, testKey } from './site.js';
import { tempLedger } from './temp-ledger.js';

/**
 * A site whose founder writes through a real ledger (durability 'process', its clock at `now`).
 * The ledger is added to `opened`, which the test closes when it is done.
 */
export function foundedLedger(now: number, opened: Ledger[]): { site: TestSite; admin: TestSite['admins'][number]; ledger: Ledger } {
  const site = new TestSite({ now: () => now });
  const ledger = tempLedger(site.site, { now: () => now });
  opened.push(ledger);
  const r = ledger.ingest([encodeEntry(site.genesis)]);
  if (r.accepted !== 1) throw new Error(`the genesis was not accepted: ${JSON.stringify(r)}`);
  return { site, admin: site.admins[0]!, ledger };
}

/** A door and a laser, the door's edge node (testKey(30)), member ada and her card a1: seqs 2..6 of `key`. */
export function populate(ledger: Ledger, key: KeyPair = testKey(1)): void {
  ledger.append(key, 'resource.put', resourceBody('door', { kind: 'door' }));
  ledger.append(key, 'resource.put', resourceBody('laser', { requiredCerts: ['laser'] }));
  ledger.append(key, 'node.enrol', { node: testKey(30).publicKey, name: 'door-pi', role: 'edge', resources: ['door'] });
  ledger.append(key, 'member.put', memberBody('ada'));
  ledger.append(key, 'card.bind', { card: testCard('a1'), member: 'ada' });
}

