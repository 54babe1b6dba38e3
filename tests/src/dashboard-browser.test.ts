// The dashboard in a real browser (Debian's Chromium driven by playwright-core; no browser is
// ever downloaded): a real `keymesh serve` and two sim edge agents (`keymesh-edge run`). The
// page signs in with the operator's key file, adds its own key to the admin set with it and
// signs with its own key from then on, sees both nodes online, shows a tap's decision in
// its live log as it happens, suspends the member with a `member.put` signed in the page (the
// next tap is denied with the reason in words), locks the laser out with a signed
// `resource.lockout` (its tile says so, a tap there is denied) after reinstating her and binding her
// new card by tapping it, opens the door by a command signed in the page, shows a
// stopped edge offline, and shows a forged entry posted to the API in its quarantine.
// Screenshots of each view go to tests/artifacts/dashboard/ (git-ignored) to be looked at.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { generateKeyPair, nextEntry } from '@keymesh/protocol';
import { eventually, exited, stopAll } from '@keymesh/testkit/processes';
import { CARDS, UNKNOWN_UID, api, freePort, makeSite, startEdge, startServe, type Panel } from './edge-site.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts', 'dashboard');
const dir = mkdtempSync(join(tmpdir(), 'km-dashboard-'));
let browser: Browser | null = null;

afterAll(async () => {
  await browser?.close();
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

const ADA = { card: CARDS[0]!.name };
/** Reads of one card closer than the config's tapRepeatMs (100 ms) are one tap. */
const pastRepeatWindow = () => new Promise((r) => setTimeout(r, 150));

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function view(page: Page, id: 'floor' | 'log' | 'members' | 'nodes' | 'alarms'): Promise<void> {
  await page.click(`nav button[data-view="${id}"]`);
  await page.waitForSelector(`nav button[data-view="${id}"][aria-current="page"]`);
}

/** Taps until the panel shows the wanted outcome (an entry signed in the page reaches the node within seconds). */
async function tapUntil(panel: Panel, want: { allow: boolean; reason: string }, card: { card: string } | { uid: string } = ADA): Promise<void> {
  await eventually(`a tap decided ${want.reason}`, async () => {
    await pastRepeatWindow();
    await panel.tap(card);
    const d = (await panel.status()).lastDecision;
    return d && d.allow === want.allow && d.reason === want.reason ? true : undefined;
  }, 15_000, 300);
}

test('the dashboard in Chromium: its own admin key, nodes live, taps in the log, members, cards, certifications and lockouts signed in the page, remote unlock, an edge offline, a coordinator restart, the quarantine', async () => {
  expect(existsSync(CHROMIUM)).toBe(true); // .ci/run installs Debian's chromium when missing
  mkdirSync(ARTIFACTS, { recursive: true });
  const ports = { mqtt: await freePort(), http: await freePort() };
  const site = await makeSite(dir, { broker: `mqtt://127.0.0.1:${ports.mqtt}` });
  let coord = await startServe(site, ports);
  const door = await startEdge(site.door);
  const laser = await startEdge(site.laser!);
  for (const [name, e] of [['door', door], ['laser', laser]] as const) {
    await eventually(`${name}: online with fresh rules`, async () => {
      const s = await e.panel.status();
      return s.online && s.rulesFreshAt !== null ? true : undefined;
    }, 20_000);
  }

  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  const failed: string[] = [];
  // A reload cancels the polls in flight (ERR_ABORTED): not a failure of the page.
  page.on('requestfailed', (r) => void (r.failure()?.errorText !== 'net::ERR_ABORTED' && failed.push(`${r.url()}: ${r.failure()?.errorText}`)));
  page.on('pageerror', (e) => failed.push(`page error: ${e.message}`));
  await page.goto(`${coord.http}/`);
  await page.waitForSelector('[data-field="page-key"]:text-matches("^[0-9a-f]{64}$")');
  await shot(page, '0-sign-in');
  const pageKey = (await page.textContent('[data-field="page-key"]'))!;
  await page.setInputFiles('#key-file', site.admin[1]!);
  await page.waitForSelector('[data-field="signer"][data-kind="operator"]');
  await page.waitForSelector('[data-field="conn"]:text-is("live")', { timeout: 15_000 });
  await shot(page, '0-operator-key');
  // The operator's key signs, once, the admins.change adding this browser's own key (kept in
  // IndexedDB); a reload signs in with that key alone, and every later entry is signed by it.
  await page.click('[data-action="adopt-page-key"]');
  await page.waitForSelector('[data-field="signer"][data-kind="page"]', { timeout: 10_000 });
  const admins = await api<{ value: { admins: Record<string, number | null> } }>(coord.http, '/api/policy/admins');
  expect(admins.value.admins[pageKey]).toBeNull();
  await page.reload();
  await page.click('[data-action="sign-in-own"]', { timeout: 10_000 });
  await page.waitForSelector('[data-field="signer"][data-kind="page"]');
  await page.waitForSelector('[data-field="conn"]:text-is("live")', { timeout: 15_000 });

  // Two tabs of this browser (one key, one IndexedDB) sign at the same moment: the Web Lock
  // orders them, so both are accepted, one after the other, and the feed does not fork.
  const second = await context.newPage();
  await second.goto(`${coord.http}/`);
  await second.click('[data-action="sign-in-own"]', { timeout: 10_000 });
  await second.waitForSelector('[data-field="signer"][data-kind="page"]');
  for (const p of [page, second]) await view(p, 'members');
  await Promise.all([page, second].map((p) => p.click('[data-member="bob"] button:text-is("Suspend")')));
  for (const p of [page, second]) {
    const outcome = await p.waitForSelector('[data-outcome]', { timeout: 10_000 });
    expect({ outcome: await outcome.getAttribute('data-outcome'), text: await outcome.textContent() }).toMatchObject({ outcome: 'ok' });
  }
  await second.close();
  expect((await api<{ seq: number }>(coord.http, `/api/feeds/${pageKey}/head`)).seq).toBe(2);
  expect((await api<{ forks: unknown[] }>(coord.http, '/api/forks')).forks).toEqual([]);
  await view(page, 'floor');

  // Floor: both nodes online.
  for (const n of [site.door.name, site.laser!.name]) {
    await page.waitForSelector(`.tile[data-node="${n}"] [data-field="online"]:text-is("online")`, { timeout: 15_000 });
  }
  await shot(page, '1-floor');

  // Live log: a tap at the door appears as it happens.
  await view(page, 'log');
  await pastRepeatWindow();
  const tappedAt = Date.now();
  expect((await door.panel.tap(ADA)).ok).toBe(true);
  const allowed = page.locator('tr.allow', { hasText: 'Ada Lovelace' }).filter({ hasText: 'Front door' });
  await allowed.first().waitFor({ timeout: 10_000 });
  // Recorded for a person to read, not asserted (no timing assertions in tests; the bench measures it).
  writeFileSync(join(ARTIFACTS, 'tap-to-row.json'), JSON.stringify({ tapToRowMs: Date.now() - tappedAt }) + '\n');
  await shot(page, '2-live-log');

  // Members: suspend Ada in the page → the next tap is denied with the reason, shown in the log.
  await view(page, 'members');
  await page.click('[data-member="ada"] button:text-is("Suspend")');
  await page.waitForSelector('[data-outcome="ok"]', { timeout: 10_000 });
  await page.waitForSelector('[data-member="ada"] [data-field="status"]:text-matches("^suspended")', { timeout: 10_000 });
  await shot(page, '3-members');
  await tapUntil(door.panel, { allow: false, reason: 'MEMBER_SUSPENDED' });
  await view(page, 'log');
  await page.locator('tr.deny', { hasText: 'Ada Lovelace' }).filter({ hasText: 'membership is suspended; talk to an admin' }).first().waitFor({ timeout: 10_000 });
  await shot(page, '4-live-log-denied');

  // Reinstate her (the page signs again after its own entry: no 409, no fork).
  await view(page, 'members');
  await page.click('[data-member="ada"] button:text-is("Reinstate")');
  await page.waitForSelector('[data-member="ada"] [data-field="status"]:text-matches("^active")', { timeout: 10_000 });
  await tapUntil(door.panel, { allow: true, reason: 'ALLOWED' });

  // Enrol a card by tapping it: Ada's new badge, tapped at the door, offered by its reference and bound in the page.
  await page.click('[data-member="ada"] button:text-is("Enrol a card by tapping")');
  await page.waitForSelector('[data-member="ada"] .enrol');
  await pastRepeatWindow();
  expect((await door.panel.tap({ uid: UNKNOWN_UID })).ok).toBe(false);
  await page.click('[data-member="ada"] [data-action="bind-card"]', { timeout: 10_000 });
  await page.waitForSelector('[data-outcome="ok"]:has-text("Binding the card to Ada Lovelace")', { timeout: 10_000 });
  await tapUntil(door.panel, { allow: true, reason: 'ALLOWED' }, { uid: UNKNOWN_UID });
  // Her details: both cards (by reference), the laser certification and who granted it.
  await page.click('[data-member="ada"] button:text-is("Details")');
  await page.waitForSelector('[data-member="ada"] [data-field="cards"] li:nth-child(2)', { timeout: 10_000 });
  await page.waitForSelector('[data-member="ada"] [data-field="certs"] li:has-text("Laser cutter: granted by an admin")');
  expect(await page.textContent('[data-member="ada"]')).not.toContain(UNKNOWN_UID); // a reference, never the uid
  await shot(page, '3b-member-detail');
  // Her laser certification revoked in the page (a signed cert.revoke): the laser denies her; then certified again.
  await page.click('[data-member="ada"] [data-cert="laser"] button:text-is("Revoke")');
  await page.waitForSelector('[data-outcome="ok"]:has-text("Revoking")', { timeout: 10_000 });
  await tapUntil(laser.panel, { allow: false, reason: 'NOT_CERTIFIED' });
  await page.click('[data-member="ada"] [data-grant="laser"]', { timeout: 10_000 });
  await page.waitForSelector('[data-outcome="ok"]:has-text("Certifying")', { timeout: 10_000 });
  await page.waitForSelector('[data-member="ada"] [data-cert="laser"]', { timeout: 10_000 });

  // Nodes: lock the laser out now (a signed resource.lockout) → its tile says so, a tap is denied.
  await view(page, 'nodes');
  await page.click('[data-resource="laser"] button:text-is("Lock out now")');
  await page.waitForSelector('[data-outcome="ok"]', { timeout: 10_000 });
  await shot(page, '5-nodes');
  // Remote unlock: a command signed in the page, published on cmd/<door> over the page's own
  // MQTT connection; the door's agent verifies it and opens.
  await eventually('the door to lock again after the last tap', async () => ((await door.panel.output('relay')) ? undefined : true));
  await page.click('[data-resource="front-door"] button:text-is("Unlock now")');
  await page.waitForSelector('[data-outcome="ok"]:has-text("signed command")', { timeout: 10_000 });
  await eventually('the door to unlock on the command', async () => ((await door.panel.output('relay')) ? true : undefined), 10_000);
  await view(page, 'floor');
  await page.waitForSelector('.tile[data-resource="laser"] [data-field="lockout"]:text-is("locked out")', { timeout: 10_000 });
  await tapUntil(laser.panel, { allow: false, reason: 'LOCKED_OUT' });
  // Stop the door's edge → its tile goes offline.
  door.process.kill('SIGTERM');
  await exited(door.process);
  await page.waitForSelector(`.tile[data-node="${site.door.name}"] [data-field="online"]:text-is("offline")`, { timeout: 15_000 });
  await shot(page, '6-floor-door-offline');
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, '7-floor-phone');
  await view(page, 'log');
  await shot(page, '8-live-log-phone');

  // A forged entry (its signature altered) and a stranger's genuine one are refused by the API;
  // the forged one is kept in the quarantine, and the page's Alarms view shows it with its reason.
  const { site: siteId } = await api<{ site: string }>(coord.http, '/api/site');
  const stranger = generateKeyPair();
  const body = { member: 'mallory', name: 'Mallory', contact: '', status: 'active' as const, validUntil: null, keys: [], trainerFor: [] };
  const genuine = nextEntry(null, 'member.put', body, stranger, { site: siteId }).wire;
  const forged = genuine.replace(/"sig":"([0-9a-f])/, (_m, c: string) => `"sig":"${c === '0' ? '1' : '0'}`);
  expect(forged).not.toBe(genuine);
  for (const [line, code] of [[forged, 'BAD_SIGNATURE'], [genuine, undefined]] as const) {
    const res = await fetch(`${coord.http}/api/entries`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ entry: line }) });
    expect(res.status).toBe(422);
    const err = ((await res.json()) as { error: { code: string } }).error;
    if (code) expect(err.code).toBe(code);
  }
  await view(page, 'alarms');
  await page.waitForSelector('tr[data-quarantine="BAD_SIGNATURE"]', { timeout: 10_000 });
  await page.waitForSelector(`[data-alarm]:has-text("${site.door.name} is offline")`, { timeout: 10_000 });
  await shot(page, '9-alarms-phone');

  expect(failed).toEqual([]);

  // The coordinator restarts (same data, same ports): the page logs in again with a new token and
  // is live (its API polls fail while it is down: what fails after it is back counts again).
  coord.process.kill('SIGTERM');
  // It stops by itself with the page connected (an open WebSocket once held it until SIGKILL).
  expect(await exited(coord.process)).toEqual({ code: 0, signal: null });
  await page.waitForSelector('[data-field="conn"]:not(:text-is("live"))', { timeout: 15_000 });
  coord = await startServe(site, ports);
  await page.waitForSelector('[data-field="conn"]:text-is("live")', { timeout: 20_000 });
  failed.length = 0;

  // Bob twice, then Ada's suspension and reinstatement, her new card, her certification revoked
  // and granted, and the lockout: eight entries of this browser's own feed.
  expect((await api<{ seq: number }>(coord.http, `/api/feeds/${pageKey}/head`)).seq).toBe(8);
  expect(failed).toEqual([]);
}, 120_000);
