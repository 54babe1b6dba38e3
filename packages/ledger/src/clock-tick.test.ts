// A coordinator's `clock.tick` (DESIGN §6, §10): it gives an edge a verified time and changes
// no policy; from any other node its stamp moves nothing.
import { PolicyState } from '@keymesh/protocol';
import { TestSite, memberBody, testKey } from '@keymesh/testkit/site';
import { tempLedger } from '@keymesh/testkit/temp-ledger';

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;

function site() {
  const s = new TestSite({ now: () => T0 });
  const admin = s.admins[0]!;
  const C = testKey(60);
  const E = testKey(61);
  admin.write('node.enrol', { node: C.publicKey, name: 'coordinator', role: 'coordinator', resources: [] });
  admin.write('node.enrol', { node: E.publicKey, name: 'door', role: 'edge', resources: ['door'] });
  admin.write('member.put', memberBody('m1'));
  return { s, admin, C, E };
}

describe('clock.tick', () => {
  test("a coordinator's tick raises an edge's verified time and changes no policy value", () => {
    const { s, admin, C } = site();
    const coordinator = tempLedger(s.site, { now: () => T0 + 30 * DAY });
    const edge = tempLedger(s.site, { now: () => T0 }); // a Pi that booted a month in the past
    try {
      coordinator.ingest(admin.feed);
      edge.ingest(admin.feed);
      const before = JSON.stringify(edge.materialised());
      const [tick] = coordinator.appendMany(C, [{ type: 'clock.tick', body: {} }]);
      expect(edge.now()).toBe(T0);
      const r = edge.ingest([tick!.entry]);
      expect(r.accepted).toBe(1);
      expect(edge.now()).toBeGreaterThanOrEqual(T0 + 30 * DAY);
      expect(JSON.stringify(edge.materialised())).toBe(before);
      expect(edge.accessLog().rows).toHaveLength(0);
      expect(edge.heads()[C.publicKey]).toBe(1);
    } finally {
      coordinator.close();
      edge.close();
    }
  });

  test("an edge's tick is stored in its feed but its stamp does not move another node's time", () => {
    const { s, admin, E } = site();
    const other = tempLedger(s.site, { now: () => T0 + 120_000 }); // within the drift allowed
    const edge = tempLedger(s.site, { now: () => T0 });
    try {
      other.ingest(admin.feed);
      edge.ingest(admin.feed);
      const [tick] = other.appendMany(E, [{ type: 'clock.tick', body: {} }]);
      expect(edge.ingest([tick!.entry]).accepted).toBe(1);
      expect(edge.now()).toBe(T0);
    } finally {
      other.close();
      edge.close();
    }
  });

  test('a tick with a body is refused (the body is an empty object)', () => {
    const { s, admin, C } = site();
    const l = tempLedger(s.site);
    try {
      l.ingest(admin.feed);
      expect(() => l.appendMany(C, [{ type: 'clock.tick', body: { at: 1 } as never }])).toThrow(/clock\.tick/);
    } finally {
      l.close();
    }
  });

  test('the in-memory reducer counts a tick once and keeps it out of the events', () => {
    const { s, admin, C } = site();
    const w = s.writer(C);
    const tick = w.write('clock.tick', {});
    const state = new PolicyState(s.site);
    for (const e of admin.feed) state.add(e);
    expect(state.add(tick)).toBe('added');
    expect(state.add(tick)).toBe('duplicate');
    expect(state.size).toBe(admin.feed.length + 1);
  });
});
