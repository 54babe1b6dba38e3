// The site the dashboard bench measures: a real `keymesh serve` and two sim edge agents
// (`keymesh-edge run`: the front door and the laser cutter), made with the system tests' own
// helpers (tests/dist/edge-site.js: the CLI calls an operator makes), plus extra cards bound
// to Ada so an edge can be asked again and again whether it denies her (a card read twice
// within the edge's tapRepeatMs is one tap). Then Debian's Chromium (playwright-core) signs in
// to the dashboard as tests/src/dashboard-browser.test.ts does: the operator's key file adds
// the page's own key to the admin set once, and the page signs with it.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { eventually } from '@keymesh/testkit/processes';
import { CARDS, freePort, keymeshOk, makeSite, startEdge, startServe } from '../../tests/dist/edge-site.js';

export const CHROMIUM = '/usr/bin/chromium';
const SIGN_IN_SHOT = fileURLToPath(new URL('../tmp/dashboard-sign-in.png', import.meta.url));
/** Ada's extra cards (hex uids, never printed): polled round-robin so no read is a repeat. */
export const ADA_POLL_UIDS = Array.from({ length: 8 }, (_, i) => `ad0000${String(i + 1).padStart(2, '0')}`);
export { CARDS };

/** Makes the site in `dir`, starts the coordinator and both edges; resolves once both are online with fresh rules. */
export async function startSite(dir, log) {
  const ports = { mqtt: await freePort(), http: await freePort() };
  const site = await makeSite(dir, { broker: `mqtt://127.0.0.1:${ports.mqtt}` });
  for (const uid of ADA_POLL_UIDS) await keymeshOk(site, ['card', 'bind', uid, '--form', 'hex', '--member', 'ada', ...site.admin]);
  log(`site made in ${dir}; starting keymesh serve and two edges…`);
  const coord = await startServe(site, ports);
  const edges = [];
  for (const node of [site.door, site.laser]) {
    const e = await startEdge(node);
    edges.push({ node, ...e });
  }
  for (const e of edges) {
    await eventually(`${e.node.name}: online with fresh rules`, async () => {
      const s = await e.panel.status();
      return s.online && s.rulesFreshAt !== null ? true : undefined;
    }, 30_000);
  }
  return { site, coord, edges };
}

/** Launches Chromium, opens the dashboard and signs in with the page's own key (adopted with the operator's key file). */
export async function signIn(coord, site) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${coord.http}/`);
  mkdirSync(fileURLToPath(new URL('../tmp/', import.meta.url)), { recursive: true });
  try {
    await page.waitForSelector('[data-field="page-key"]:text-matches("^[0-9a-f]{64}$")', { timeout: 30_000 });
    const key = await page.textContent('[data-field="page-key"]');
    await page.setInputFiles('#key-file', site.admin[1]);
    await page.waitForSelector('[data-field="signer"][data-kind="operator"]', { timeout: 30_000 });
    await page.waitForSelector('[data-field="conn"]:text-is("live")', { timeout: 30_000 });
    await page.click('[data-action="adopt-page-key"]');
    await page.waitForSelector('[data-field="signer"][data-kind="page"]', { timeout: 30_000 });
    // The reload asks the coordinator whether the page's key is an admin: once it says so.
    await eventually('the page key in the admin set', async () => {
      const res = await fetch(`${coord.http}/api/policy/admins`);
      return res.ok && Object.hasOwn((await res.json()).value.admins, key) ? true : undefined;
    }, 30_000);
    await page.reload();
    await page.click('[data-action="sign-in-own"]', { timeout: 30_000 });
    await page.waitForSelector('[data-field="signer"][data-kind="page"]', { timeout: 30_000 });
    await page.waitForSelector('[data-field="conn"]:text-is("live")', { timeout: 30_000 });
  } catch (err) {
    await page.screenshot({ path: SIGN_IN_SHOT, fullPage: true }).catch(() => {});
    throw new Error(`signing in to the dashboard failed (the page: ${SIGN_IN_SHOT}; its errors: ${errors.join('; ') || 'none'}): ${err.message}`);
  }
  return { browser, page, errors };
}

/** Shows a view of the dashboard. */
export async function view(page, id) {
  await page.click(`nav button[data-view="${id}"]`);
  await page.waitForSelector(`nav button[data-view="${id}"][aria-current="page"]`);
}
