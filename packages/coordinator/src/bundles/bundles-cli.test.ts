// `keymesh bundle publish` and `keymesh bundle status` in a temp data folder (no server: the
// entry goes to the ledger file), run in-process through main(argv).
import { describe, it, expect, beforeAll } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Buffer } from 'node:buffer';
import { BlobStore, Ledger, PinnedManifests } from '@keymesh/ledger';
import { verifyEntry, type AnyEntry } from '@keymesh/protocol';
import { prng, testKey } from '@keymesh/testkit';
import { tempDir } from '@keymesh/testkit/temp-files';
import { ledgerTarget } from '../admin/target.js';
import { signAndSubmit } from '../admin/writer.js';
import { runCaptured } from '../admin/run-captured.js';
import { dataPaths, readSite } from '../data-dir.js';
import { readKeyFile, writeKeyFile } from '../files.js';
import { BUNDLE_CHUNKING } from './chunking.js';
import { HeldReports } from './held-reports.js';
import { makeHeldReport } from '@keymesh/ledger';
import { topics } from '@keymesh/protocol';

const door = testKey(31);
const laser = testKey(32);

async function site() {
  const root = tempDir('keymesh-bundle-');
  const data = join(root, 'data');
  const init = await runCaptured(['init', '--site', 'Bundle space', '--data', data, '--keys', join(root, 'keys'), '--json']);
  expect(init.code).toBe(0);
  const j = JSON.parse(init.out) as { site: string; dailyAdminKey: string };
  const km = (...argv: string[]) => runCaptured([...argv, '--data', data, '--key', j.dailyAdminKey]);
  // Two edge nodes, enrolled by the daily admin.
  const target = ledgerTarget(dataPaths(data).ledger, j.site);
  const admin = readKeyFile(j.dailyAdminKey);
  for (const [k, name] of [[door, 'door-1'], [laser, 'laser']] as const) {
    await signAndSubmit(target, admin, j.site, 'node.enrol', { node: k.publicKey, name, role: 'edge', resources: [] }, [`node/${k.publicKey}`]);
  }
  await target.close();
  return { root, data, site: j.site, keyFile: j.dailyAdminKey, km };
}

function bundleEntries(data: string): AnyEntry[] {
  const p = dataPaths(data);
  const l = Ledger.open(p.ledger, { site: readSite(p).site, readonly: true });
  try {
    const out: AnyEntry[] = [];
    for (const line of l.iterateEncoded()) {
      const e = JSON.parse(line) as AnyEntry;
      if (e.type === 'bundle.publish') out.push(e);
    }
    return out;
  } finally {
    l.close();
  }
}

describe('keymesh bundle publish', () => {
  let s: Awaited<ReturnType<typeof site>>;
  beforeAll(async () => {
    s = await site();
  });

  it('stores the file and makes a verified, admin-signed bundle.publish naming its manifest', async () => {
    const file = join(s.root, 'edge-1.0.0.tar');
    const bytes = prng(31)(700_000);
    writeFileSync(file, bytes);
    const r = await s.km('bundle', 'publish', file, '--version', '1.0.0', '--json');
    expect(r).toMatchObject({ code: 0 });
    const out = JSON.parse(r.out) as { manifest: string; size: number; chunks: number; targets: string; type: string };
    expect(out).toMatchObject({ type: 'bundle.publish', size: bytes.length, targets: 'all' });

    const [e] = bundleEntries(s.data);
    expect(verifyEntry(e!).ok).toBe(true);
    expect(e!.author).toBe(readKeyFile(s.keyFile).publicKey);
    expect(e!.body).toEqual({ manifest: out.manifest, version: '1.0.0', size: bytes.length, targets: 'all' });
    const l = Ledger.open(dataPaths(s.data).ledger, { site: s.site, readonly: true });
    expect(l.policy.bundle(out.manifest)).toMatchObject({ version: '1.0.0', targets: 'all' });
    l.close();

    // The manifest is pinned (a node can fetch it by that id) and the blob reads back whole.
    const store = BlobStore.open(dataPaths(s.data).blobs, { chunking: BUNDLE_CHUNKING });
    try {
      const m = new PinnedManifests(store).get(out.manifest)!;
      expect(m.params).toMatchObject({ min: 4096, avg: 16_384, max: 65_536 });
      expect(m.chunks.length).toBe(out.chunks);
      expect((await store.getBytes(m)).equals(bytes)).toBe(true);
    } finally {
      store.close();
    }
  });

  it('a second version with a few changed bytes adds only its changed chunks, to the nodes named', async () => {
    const file = join(s.root, 'edge-1.0.1.tar');
    const bytes = Buffer.from(prng(31)(700_000));
    bytes[350_000] = bytes[350_000]! ^ 0xff;
    writeFileSync(file, bytes);
    const r = await s.km('bundle', 'publish', file, '--version', '1.0.1', '--to', 'door-1', '--to', laser.publicKey, '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as { newBytes: number; targets: string[] };
    expect(out.targets).toEqual([door.publicKey, laser.publicKey].sort());
    expect(out.newBytes).toBeGreaterThan(0);
    expect(out.newBytes).toBeLessThanOrEqual(3 * 65_536);
  });

  it('refuses a bad version, a missing file, an unknown node or a non-admin key, and signs nothing', async () => {
    const file = join(s.root, 'x.tar');
    writeFileSync(file, 'x');
    const before = bundleEntries(s.data).length;
    const bad = await s.km('bundle', 'publish', file, '--version', 'not a version');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('--version');
    const missing = await s.km('bundle', 'publish', join(s.root, 'nope.tar'), '--version', '1.0.2');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('nope.tar');
    const unknown = await s.km('bundle', 'publish', file, '--version', '1.0.2', '--to', 'no-such-door');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('no-such-door');
    const stranger = await s.km('bundle', 'publish', file, '--version', '1.0.2', '--to', 'ab'.repeat(32));
    expect(stranger.code).toBe(1);
    expect(stranger.err).toContain('no node with key');
    const otherKey = join(s.root, 'other.key');
    writeKeyFile(otherKey, testKey(40), 'not an admin');
    const notAdmin = await runCaptured(['bundle', 'publish', file, '--version', '1.0.2', '--data', s.data, '--key', otherKey]);
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.err).toContain('not a current admin');
    const noVersion = await s.km('bundle', 'publish', file);
    expect(noVersion.code).toBe(2);
    expect(bundleEntries(s.data).length).toBe(before);
  });

  it('bundle status shows which node holds which version, from the nodes\' signed reports', async () => {
    const entries = bundleEntries(s.data);
    const v100 = (entries.find((e) => (e.body as { version: string }).version === '1.0.0')!.body as { manifest: string }).manifest;
    const v101 = (entries.find((e) => (e.body as { version: string }).version === '1.0.1')!.body as { manifest: string }).manifest;
    const store = BlobStore.open(dataPaths(s.data).blobs, { chunking: BUNDLE_CHUNKING });
    try {
      const held = new HeldReports(store.db, s.site);
      const t = topics(s.site);
      const report = (k: typeof door, bundles: Array<{ manifest: string; version: string }>, at: number) =>
        Buffer.from(JSON.stringify(makeHeldReport(k, bundles, at)));
      const isNode = (k: string) => k === door.publicKey || k === laser.publicKey;
      expect(held.record(t.blobHeld(door.publicKey), report(door, [{ manifest: v100, version: '1.0.0' }, { manifest: v101, version: '1.0.1' }], 2000), isNode)).toMatchObject({ ok: true });
      // An older report changes nothing; a forged one and one from a stranger are refused.
      expect(held.record(t.blobHeld(door.publicKey), report(door, [], 1000), isNode)).toMatchObject({ ok: true });
      expect(held.record(t.blobHeld(laser.publicKey), report(door, [], 3000), isNode)).toMatchObject({ ok: false });
      const stranger = testKey(39);
      expect(held.record(t.blobHeld(stranger.publicKey), report(stranger, [], 3000), isNode)).toMatchObject({ ok: false, reason: expect.stringContaining('not an enrolled node') });
      expect(held.all().map((r) => r.node)).toEqual([door.publicKey]);
    } finally {
      store.close();
    }
    const r = await runCaptured(['bundle', 'status', '--json', '--data', s.data]);
    expect(r.code).toBe(0);
    const st = JSON.parse(r.out) as { bundles: Array<{ version: string; held: number; nodes: Array<{ name: string; holds: boolean | null }> }>; nodes: Array<{ name: string; holds: Array<{ version: string }> }> };
    expect(st.bundles.map((b) => b.version)).toEqual(['1.0.1', '1.0.0']);
    expect(st.bundles[0]!.nodes).toEqual(expect.arrayContaining([
      expect.objectContaining({ name: 'door-1', holds: true }),
      expect.objectContaining({ name: 'laser', holds: null }),
    ]));
    expect(st.nodes.find((n) => n.name === 'door-1')!.holds.map((h) => h.version)).toEqual(['1.0.0', '1.0.1']);
    const text = await runCaptured(['bundle', 'status', '--data', s.data]);
    expect(text.out).toContain('1.0.1');
    expect(text.out).toContain('held by 1 of 2');
    expect(text.out).toContain('laser');
  });
});
