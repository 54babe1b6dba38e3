// Reopening a ledger whose feeds hold entries with no policy key that are not access events (a
// coordinator's clock.tick): the access log's pending index batch holds access events only, so
// the next ingest still stores and indexes (it failed every write with a NOT NULL constraint on
// events_by_resource.resource, found by the edge offline system test after a kill -9).
import { Ledger } from '@keymesh/ledger';
import { TestSite, memberBody, testCard, testKey } from '@keymesh/testkit/site';
import { tempDir } from '@keymesh/testkit/temp-ledger';
import { join } from 'node:path';

const T0 = 1_700_000_000_000;

test('after a reopen, a clock.tick in a feed does not block the access events that follow', () => {
  const s = new TestSite({ now: () => T0 });
  const admin = s.admins[0]!;
  const C = testKey(60);
  const E = testKey(61);
  admin.write('node.enrol', { node: C.publicKey, name: 'coordinator', role: 'coordinator', resources: [] });
  admin.write('node.enrol', { node: E.publicKey, name: 'door', role: 'edge', resources: ['door'] });
  admin.write('member.put', memberBody('m1'));
  const path = join(tempDir(), 'ledger.sqlite');
  const edge = Ledger.open(join(tempDir(), 'edge.sqlite'), { site: s.site, now: () => T0 });
  let l = Ledger.open(path, { site: s.site, now: () => T0 });
  try {
    l.ingest(admin.feed);
    edge.ingest(admin.feed);
    l.appendMany(C, [{ type: 'clock.tick', body: {} }]);
    l.close();
    l = Ledger.open(path, { site: s.site, now: () => T0 });
    const [d] = edge.appendMany(E, [{ type: 'access.decision', body: { resource: 'door', credential: { kind: 'card', card: testCard('0a0b0c0d') }, allow: false, reason: 'UNKNOWN_CARD', member: null, at: T0 } }]);
    expect(l.ingest([d!.entry])).toMatchObject({ accepted: 1 });
    expect(l.accessLog({ resource: 'door' }).rows).toHaveLength(1);
    expect(l.heads()[E.publicKey]).toBe(1);
  } finally {
    l.close();
    edge.close();
  }
});
