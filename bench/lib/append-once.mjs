// One steady-state append figure for the checkout at ROOT (built): single appends, one per
// transaction, durability 'group', after one warm-up append and 0.2 s for the group-commit thread.
// For comparing two checkouts on a VM whose speed drifts: run them alternately, in pairs, and
// compare within each pair (bench/RESULTS.md, ledger, shows how).
//   node bench/lib/append-once.mjs ROOT [N]
const [root, count] = process.argv.slice(2);
if (!root || root === '--help') {
  console.log('usage: node bench/lib/append-once.mjs ROOT [N]\n  ROOT  a built checkout of this repository\n  N     appends to time (default 6000)');
  process.exit(root ? 0 : 2);
}
const { Ledger } = await import(`${root}/packages/ledger/dist/index.js`);
const { encodeEntry } = await import(`${root}/packages/protocol/dist/index.js`);
const { TestSite, testKey } = await import(`${root}/packages/protocol/dist/testing.js`);
const { mkdtempSync, rmSync } = await import('node:fs');
const { join } = await import('node:path');
const { tmpdir } = await import('node:os');

const NOW = 1_700_000_000_000;
const event = (i, member) => ({ resource: i % 7 ? 'door' : 'laser', credential: { kind: 'card', uid: `c${i % 5000}` }, allow: i % 3 !== 0, reason: 'ALLOWED', member, at: NOW + i * 1000 });
const site = new TestSite({ now: () => NOW });
const node = testKey(30);
const dir = mkdtempSync(join(tmpdir(), 'keymesh-append-once-'));
try {
  const l = Ledger.open(join(dir, 'x.db'), { site: site.site, now: () => NOW });
  l.ingest([encodeEntry(site.genesis)]);
  l.append(node, 'access.decision', event(0, 'ada'));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const n = Number(count ?? 6000);
  const t = performance.now();
  for (let i = 1; i <= n; i++) l.append(node, 'access.decision', event(i, 'ada'));
  l.flush();
  console.log((n / ((performance.now() - t) / 1000)).toFixed(0));
  l.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
