// An edge-sized ledger (DESIGN §12): 5,000 members with a card each, 15,000 certifications and
// 200,000 access events, all of them entries that count: the admin of the genesis writes the
// rules and grants every certification itself, and the events come from 20 nodes that admin
// enrolled for the resources their events name (entries of keys without authority are held
// apart, not as feeds, so they would not make a realistic ledger).
//   buildEdgeLedger(path, opts) → { site, admin, nodes, members, entries }; evictFromPageCache(path)
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { encodeEntry, signEntry } from '@keymesh/protocol';
import { TestSite, testKey, memberBody, resourceBody } from '@keymesh/testkit/site';
import { Ledger } from '@keymesh/ledger';
import { NOW, card, event } from './access-event.mjs';

export const RESOURCES = ['door', 'laser', 'cnc', 'lathe'];
const CERTS = ['laser', 'cnc', 'lathe'];

/** The site every edge ledger of the suite belongs to (deterministic keys). */
export function edgeSite() {
  const site = new TestSite({ now: () => NOW });
  return { site, admin: site.admins[0].key, nodes: Array.from({ length: 20 }, (_, a) => testKey(1000 + a)) };
}

/**
 * Writes the ledger at `path` (which must not exist). Events carry hlc stamps before NOW, so a
 * ledger whose clock says NOW accepts them all.
 */
export function buildEdgeLedger(path, { members = 5000, certsPerMember = 3, events = 200_000, log = () => {} } = {}) {
  const { site, admin, nodes } = edgeSite();
  const l = Ledger.open(path, { site: site.site, now: () => NOW, durability: 'process' });
  try {
    const first = l.ingest([encodeEntry(site.genesis)]);
    if (first.accepted !== 1) throw new Error(`genesis refused: ${JSON.stringify(first.rejected)}`);
    l.appendMany(admin, [
      ...RESOURCES.map((r) => ({ type: 'resource.put', body: resourceBody(r, r === 'door' ? { kind: 'door' } : { requiredCerts: [r] }) })),
      ...nodes.map((n, a) => ({ type: 'node.enrol', body: { node: n.publicKey, name: `pi-${a}`, role: 'edge', resources: RESOURCES } })),
    ]);
    for (let i = 0; i < members; i += 500) {
      const items = [];
      for (let j = i; j < Math.min(members, i + 500); j++) {
        items.push({ type: 'member.put', body: memberBody(`m${j}`, { contact: `m${j}@example.org` }) });
        items.push({ type: 'card.bind', body: { card: card(`c${j}`), member: `m${j}` } });
        for (let c = 0; c < certsPerMember; c++) items.push({ type: 'cert.grant', body: { member: `m${j}`, cert: CERTS[c % CERTS.length], grantedBy: null, note: '' } });
      }
      l.appendMany(admin, items);
    }
    log(`  rules: ${l.count()} entries (${members} members and cards, ${members * certsPerMember} certifications)`);
    // Each node's feed, signed and ingested in batches (verify: batch, as a catch-up would).
    const per = Math.ceil(events / nodes.length);
    let done = 0;
    for (const [a, key] of nodes.entries()) {
      let prev = null;
      let batch = [];
      for (let s = 1; s <= per && done < events; s++, done++) {
        const i = a * per + s;
        const { entry, hash } = signEntry(key, { site: site.site, seq: s, prev, hlc: { wall: NOW - events + done, logical: 0 }, type: 'access.decision', deps: [], body: event(i, `m${i % members}`) });
        batch.push(encodeEntry(entry));
        prev = hash;
        if (batch.length === 5000) (check(l.ingest(batch, { verify: 'batch' })), (batch = []));
      }
      if (batch.length) check(l.ingest(batch, { verify: 'batch' }));
      if (a % 5 === 4) log(`  events: ${done} / ${events}`);
    }
    return { site, admin, nodes, members, entries: l.count() };
  } finally {
    l.close();
  }
}

function check(r) {
  if (r.rejected.length || r.waiting) throw new Error(`edge ledger: ${r.rejected.length} rejected, ${r.waiting} waiting: ${r.rejected[0]?.reason}`);
}

/**
 * Drops `path` (and its -wal) from the OS page cache: `dd iflag=nocache count=0` asks the kernel
 * to discard the whole file's cached pages (POSIX_FADV_DONTNEED), for this file only. Returns
 * false where that is not possible (no GNU dd).
 */
export function evictFromPageCache(path) {
  try {
    for (const f of [path, `${path}-wal`]) if (existsSync(f)) execFileSync('dd', [`if=${f}`, 'iflag=nocache', 'count=0', 'status=none']);
    return true;
  } catch {
    return false;
  }
}
