// The demo signs its admin into the dashboard: a key made for the page (DESIGN §3: one key per
// signing device, so not the admin key file itself), kept in the demo's keys folder, added to the
// admin set by an `admins.change` signed with the demo's admin key file and posted to
// `POST /api/entries`, the route the page itself uses. The page takes it from the URL fragment
// `#demo-key=<seed>` (packages/dashboard/src/demo-key.ts: loopback pages only, an admin key only,
// removed from the address bar at once, never stored as the browser's own key).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getJson } from './processes.mjs';

const seedFile = (paths) => join(paths.keys, 'dashboard-demo.seed');

async function postEntry(http, wire) {
  const res = await fetch(new URL('api/entries', http), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ entry: wire }), signal: AbortSignal.timeout(10_000) });
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`the coordinator refused the admins.change adding the dashboard's demo key (${json?.error?.code ?? `HTTP ${res.status}`}: ${json?.error?.message ?? 'no message'})`);
}

const isAdmin = (reg, key) => !!reg && Object.hasOwn(reg.value.admins, key) && reg.value.admins[key] === null;

/** Makes (once) and admits the page's demo key; returns the dashboard URL that signs it in. */
export async function dashboardLink(paths, marker, http, say) {
  const p = await import('@keymesh/protocol');
  const file = seedFile(paths);
  let seed = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (!/^[0-9a-f]{64}$/.test(seed)) {
    seed = p.toHex(p.generateKeyPair(p.pureCrypto).seed);
    writeFileSync(file, seed + '\n', { mode: 0o600 });
  }
  const page = p.keyPairFromSeed(p.fromHex(seed), p.pureCrypto);
  const policy = () => getJson(new URL('api/policy/admins', http)).catch(() => null);
  let reg = await policy();
  if (!reg) throw new Error('the coordinator holds no admin set (GET /api/policy/admins); run the demo with --reset');
  if (!isAdmin(reg, page.publicKey)) {
    say(`dashboard: adding the page's demo key ${page.publicKey.slice(0, 12)}… to the admin set (admins.change signed with ${marker.adminKey})`);
    const { keyPair: admin } = p.decodeKeyFile(readFileSync(marker.adminKey, 'utf8'), p.pureCrypto);
    const { admins, quorum } = reg.value;
    if (quorum > 1) throw new Error(`the demo site's admin quorum is ${quorum}: the demo key cannot be added by one admin; run the demo with --reset`);
    const grants = Object.entries({ ...admins, [page.publicKey]: null }).map(([key, until]) => ({ key, until })).sort((a, b) => (a.key < b.key ? -1 : 1));
    const head = await getJson(new URL(`api/feeds/${admin.publicKey}/head`, http)).catch(() => null);
    const made = p.nextEntry(head ? p.parseEntryText(head.line).entry : null, 'admins.change', { admins: grants, quorum, approvals: [] }, admin, { site: marker.site, deps: reg.heads, crypto: p.pureCrypto });
    await postEntry(http, made.wire);
    const until = Date.now() + 10_000;
    while (!isAdmin(reg, page.publicKey)) {
      if (Date.now() > until) throw new Error("the admins.change adding the dashboard's demo key was accepted but the admin set does not show it after 10 s");
      await new Promise((r) => setTimeout(r, 200));
      reg = await policy();
    }
  }
  return `${http}#demo-key=${seed}`;
}
