// Red team: a flood of commands. Even valid, admin-signed ones (a runaway dashboard script, a
// stolen admin browser) must not grow the durable replay note without bound, and a full cache
// must refuse new commands rather than forget one it acted on (which would let a replay open
// the door again).
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

test('1000 valid commands in one minute: the note stays bounded, none is acted on twice, a replay of the first is still refused', () => {
  const ledger = Ledger.open(join(tempDir('km-cmd-flood-'), 'ledger.db'), { site: site.site, now: () => NOW, durability: 'process' });
  ledger.ingest([
    site.genesis,
    admin.write('resource.put', resourceBody('front-door', { kind: 'door' })),
    admin.write('node.enrol', { node: node.publicKey, name: 'door', role: 'edge', resources: ['front-door'] }),
  ]);
  const acted: Command[] = [];
  const codes = new Map<string, number>();
  const bus = { subscribe: async () => undefined, unsubscribe: async () => undefined } as never;
  const listener = new CommandListener({ bus, ledger, site: site.site, node: node.publicKey, act: (c) => acted.push(c), log: (_l, _m, f) => void (f.code && codes.set(String(f.code), (codes.get(String(f.code)) ?? 0) + 1)) });
  const msg = (c: Command): BusMessage => ({ topic: topics(site.site).cmd(node.publicKey), payload: new Uint8Array(Buffer.from(JSON.stringify(c))), retain: false });
  const sent = Array.from({ length: 1000 }, (_, i) => makeCommand({ site: site.site, node: node.publicKey, resource: 'front-door', issuedAt: NOW - 30_000 + i }, admin.key));
  for (const c of sent) listener.onMessage(msg(c));
  const noteBytes = ledger.note('cmd-replay')!.length;
  for (const c of sent) listener.onMessage(msg(c));
  expect(new Set(acted.map((c) => c.id)).size).toBe(acted.length);
  expect(acted.length).toBeLessThanOrEqual(256);
  expect(listener.onMessage(msg(sent[0]!))).not.toBeNull();
  expect(noteBytes).toBeLessThan(64 * 1024);
  expect(ledger.note('cmd-replay')!.length).toBeLessThanOrEqual(noteBytes);
  ledger.close();
});
