// Remote commands at the edge (DESIGN §7): acted on once, never from a retained message, past
// expiry, from a non-admin, with a forged signature, or for another node; the ids acted on
// survive a restart (a reboot must not open the door again).
import { Buffer } from 'node:buffer';
import { join } from 'node:path';
import { Ledger, type BusMessage } from '@keymesh/ledger';
import { makeCommand, topics, type Command } from '@keymesh/protocol';
import { TestSite, resourceBody, testKey } from '@keymesh/testkit/site';
import { tempDir } from '@keymesh/testkit/temp-files';
import { CommandListener } from './commands.js';

const NOW = 1_700_000_100_000;
const site = new TestSite({ now: () => NOW });
const admin = site.admins[0]!;
const node = testKey(30);
const stranger = testKey(31);
const entries = [
  site.genesis,
  admin.write('resource.put', resourceBody('front-door', { kind: 'door' })),
  admin.write('node.enrol', { node: node.publicKey, name: 'door', role: 'edge', resources: ['front-door'] }),
];

function open(dir: string): { ledger: Ledger; acted: Command[]; refusals: string[]; listener: CommandListener } {
  const ledger = Ledger.open(join(dir, 'ledger.db'), { site: site.site, now: () => NOW });
  if (ledger.count() === 0) ledger.ingest(entries);
  const acted: Command[] = [];
  const refusals: string[] = [];
  const bus = { subscribe: async () => undefined, unsubscribe: async () => undefined } as never;
  const listener = new CommandListener({ bus, ledger, site: site.site, node: node.publicKey, act: (c) => acted.push(c), log: (_l, _m, f) => refusals.push(String(f.code)) });
  return { ledger, acted, refusals, listener };
}

const msg = (c: unknown, retain = false): BusMessage => ({ topic: topics(site.site).cmd(node.publicKey), payload: new Uint8Array(Buffer.from(typeof c === 'string' ? c : JSON.stringify(c))), retain });
const unlock = (over: Partial<Parameters<typeof makeCommand>[0]> = {}, key = admin.key) => makeCommand({ site: site.site, node: node.publicKey, resource: 'front-door', issuedAt: NOW - 1000, ...over }, key);

test('a valid command is acted on once; a redelivery, and the same command after a restart, are refused', () => {
  const dir = tempDir('km-edge-cmd-');
  const c = unlock();
  const a = open(dir);
  expect(a.listener.onMessage(msg(c))).toBeNull();
  expect(a.acted.map((x) => x.id)).toEqual([c.id]);
  expect(a.listener.onMessage(msg(c))).toBe('REPLAYED');
  a.ledger.close();
  const b = open(dir);
  expect(b.listener.onMessage(msg(c))).toBe('REPLAYED');
  expect(b.acted).toEqual([]);
  b.ledger.close();
});

test.each([
  ['retained', () => msg(unlock(), true), 'RETAINED'],
  ['not JSON', () => msg('{"action":'), 'SCHEMA'],
  ['oversized', () => msg('x'.repeat(5000)), 'TOO_LARGE'],
  ['expired', () => msg(unlock({ issuedAt: NOW - 90_000, ttlMs: 60_000 })), 'EXPIRED'],
  ['from the future', () => msg(unlock({ issuedAt: NOW + 120_000 })), 'NOT_YET_VALID'],
  ['for another node', () => msg(unlock({ node: stranger.publicKey })), 'WRONG_NODE'],
  ['for a resource this node does not control', () => msg(unlock({ resource: 'laser' })), 'WRONG_RESOURCE'],
  ['signed by a key that is not an admin', () => msg(unlock({}, stranger)), 'NOT_ADMIN'],
  ['with a forged signature', () => msg({ ...unlock(), issuer: stranger.publicKey }), 'BAD_SIGNATURE'],
  ['for another site', () => msg(unlock({ site: 'ab'.repeat(32) })), 'WRONG_SITE'],
])('a command %s is refused and changes nothing', (_what, make, code) => {
  const dir = tempDir('km-edge-cmd-');
  const a = open(dir);
  const before = a.ledger.note('cmd-replay');
  expect(a.listener.onMessage(make())).toBe(code);
  expect(a.acted).toEqual([]);
  expect(a.refusals).toEqual([code]);
  expect(a.ledger.note('cmd-replay')).toBe(before);
  a.ledger.close();
});
