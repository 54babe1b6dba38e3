// The edge suite's site (bench/suites/edge.mjs): the ledger suite's edge-sized ledger
// (edge-ledger.mjs: 5,000 members with a card each, 15,000 certifications, 200,000 events of 20
// nodes), plus what the taps and the catch-up need:
//   - the bench's edge node (testKey(EDGE_KEY)), enrolled for the door and the laser, whose own
//     feed holds OWN_EVENTS access decisions (what a fresh peer asks it for);
//   - members m800-m899 with their laser certification revoked (NOT_CERTIFIED on the laser),
//     m900-m999 suspended; the rest allowed everywhere. The taps use members m100-m999 only: a
//     card's label is the hex uid a reader reports (cardRef hashes the uid's canonical text, and
//     access-event's card(label) hashes the label), so only labels of whole bytes, c100-c999,
//     can be read;
//   - PEER_KEYS enrolled as coordinators (the replicas that catch up from the edge).
// Built once into bench/tmp/edge-site/VERSION/: base.db is what a fresh peer holds (everything but
// the edge's own feed), edge.db is base.db plus that feed. VERSION changes with the ledger's and
// protocol's committed sources and this file, so a stale cache is not reused.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ledger } from '@keymesh/ledger';
import { cardRef, encodeEntry, normaliseCardUid, signEntry, toHex } from '@keymesh/protocol';
import { TEST_CARD_KEY, memberBody, testKey } from '@keymesh/testkit/site';
import { enrol } from '@keymesh/edge-agent/enrol';
import { NOW, card, event } from './access-event.mjs';
import { buildEdgeLedger, edgeSite } from './edge-ledger.mjs';

export const EDGE_KEY = 1100;
export const PEER_KEYS = [2101, 2102, 2103, 2104];
export const OWN_EVENTS = 50_000;
export const MEMBERS = 5000;
/** Members (their card c<j>) by what a tap of their card gets. */
export const GROUPS = { allowed: [100, 800], notCertified: [800, 900], suspended: [900, 1000] };

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CACHE = join(ROOT, 'bench', 'tmp', 'edge-site');

/** The uid a reader reports for the card labelled `label` (whole bytes of hex: cardRef(key, uid) is then access-event's card(label)). */
export function uidOf(label) {
  return normaliseCardUid(label, 'hex');
}

function version() {
  const h = createHash('sha256');
  for (const p of ['packages/ledger/src', 'packages/protocol/src']) {
    try {
      h.update(execFileSync('git', ['-C', ROOT, 'rev-parse', `HEAD:${p}`], { encoding: 'utf8' }));
    } catch {
      h.update('no-git');
    }
  }
  for (const f of ['edge-site.mjs', 'edge-ledger.mjs', 'access-event.mjs']) h.update(readFileSync(join(ROOT, 'bench', 'lib', f)));
  return h.digest('hex').slice(0, 12);
}

function check(r) {
  if (r.rejected.length || r.waiting) throw new Error(`edge site: ${r.rejected.length} rejected, ${r.waiting} waiting: ${r.rejected[0]?.reason}`);
}

/** Builds the site unless a build of this version is cached; returns its files. */
export function edgeSiteFiles({ log = () => {}, rebuild = false } = {}) {
  const dir = join(CACHE, version());
  const out = { dir, base: join(dir, 'base.db'), edge: join(dir, 'edge.db') };
  if (!rebuild && existsSync(join(dir, 'done.json'))) {
    log(`site cached in ${dir}`);
    return { ...out, ...JSON.parse(readFileSync(join(dir, 'done.json'), 'utf8')) };
  }
  if (cardRef(TEST_CARD_KEY, uidOf('c100')) !== card('c100')) throw new Error('uidOf() does not give the card references the ledger holds');
  rmSync(CACHE, { recursive: true, force: true }); // older versions: 400 MB each
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const tmp = join(dir, 'base.tmp.db');
  log('building the edge-sized ledger (5,000 members, 15,000 certifications, 200,000 events)…');
  buildEdgeLedger(tmp, { log });
  const { site, admin } = edgeSite();
  const me = testKey(EDGE_KEY);
  const l = Ledger.open(tmp, { site: site.site, now: () => NOW, durability: 'process' });
  try {
    const items = [
      { type: 'node.enrol', body: { node: me.publicKey, name: 'bench-edge', role: 'edge', resources: ['door', 'laser'] } },
      ...PEER_KEYS.map((k, i) => ({ type: 'node.enrol', body: { node: testKey(k).publicKey, name: `peer-${i}`, role: 'coordinator', resources: [] } })),
    ];
    for (let j = GROUPS.notCertified[0]; j < GROUPS.notCertified[1]; j++) items.push({ type: 'cert.revoke', body: { member: `m${j}`, cert: 'laser', revokedBy: null, reason: 'bench: not certified' } });
    l.appendMany(admin, items);
    for (let j = GROUPS.suspended[0]; j < GROUPS.suspended[1]; j++) l.append(admin, 'member.put', memberBody(`m${j}`, { contact: `m${j}@example.org`, status: 'suspended' }));
  } finally {
    l.close();
  }
  renameSync(tmp, out.base);
  for (const s of ['-wal', '-shm']) rmSync(tmp + s, { force: true });
  copyFileSync(out.base, out.edge);
  log(`the edge's own feed: ${OWN_EVENTS} access decisions…`);
  const e = Ledger.open(out.edge, { site: site.site, now: () => NOW, durability: 'process' });
  try {
    let prev = null;
    let batch = [];
    for (let s = 1; s <= OWN_EVENTS; s++) {
      const { entry, hash } = signEntry(me, { site: site.site, seq: s, prev, hlc: { wall: NOW + s, logical: 0 }, type: 'access.decision', deps: [], body: event(300_000 + s, `m${s % MEMBERS}`) });
      batch.push(encodeEntry(entry));
      prev = hash;
      if (batch.length === 5000) (check(e.ingest(batch, { verify: 'batch' })), (batch = []));
    }
    if (batch.length) check(e.ingest(batch, { verify: 'batch' }));
    out.entries = e.count();
  } finally {
    e.close();
  }
  const meta = { entries: out.entries, ownEvents: OWN_EVENTS, buildS: (performance.now() - t0) / 1000 };
  writeFileSync(join(dir, 'done.json'), JSON.stringify(meta));
  log(`site built in ${meta.buildS.toFixed(0)} s: ${meta.entries} entries on the edge`);
  return { ...out, ...meta };
}

/**
 * Enrols an edge data folder at `data` from a provisioning file written as `keymesh node enrol`
 * writes one (the bench's node key, the peers as its coordinators), then puts a copy of the
 * built edge ledger in it. Returns the folder's path.
 */
export function enrolEdge(files, data, { kind, resource, brokerUrl }) {
  const { site } = edgeSite();
  const me = testKey(EDGE_KEY);
  const prov = join(`${data}.provisioning.json`);
  writeFileSync(prov, JSON.stringify({
    keymesh: 'provisioning', v: 1, site: site.site, siteName: 'Test Space', genesis: encodeEntry(site.genesis),
    broker: { url: brokerUrl }, coordinators: PEER_KEYS.map((k) => testKey(k).publicKey), cardKey: TEST_CARD_KEY,
    node: { name: `bench-${resource}`, kind, resource, key: me.publicKey, seed: toHex(me.seed) }, created: NOW,
  }), { mode: 0o600 });
  const { paths } = enrol(prov, data);
  rmSync(prov);
  for (const s of ['', '-wal', '-shm']) rmSync(paths.ledger + s, { force: true });
  copyFileSync(files.edge, paths.ledger);
  return paths;
}
