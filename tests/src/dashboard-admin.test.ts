// The dashboard's admin work in Chromium (Debian's, driven by playwright-core), against a real
// `keymesh serve` and a sim door (`keymesh-edge run`): add a member and edit one (and the
// refusals: an id taken, an id the protocol refuses); enrol a card by the number printed on its
// fob (the site card key imported once into the page; a wrong file and a bad number refused; the
// door then opens for it; neither the card key nor the number ever leaves the page); a trainer
// added and withdrawn; a second browser's key approved from the Admins view (a malformed key
// refused); and two conflicts (two admins edit one member at once; a card bound to two members at
// once), each shown and resolved by an entry naming both heads. Screenshots: tests/artifacts/dashboard/.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { cardRef, decodeKeyFile, nextEntry, normaliseCardUid, parseEntryText } from '@keymesh/protocol';
import { eventually, stopAll } from '@keymesh/testkit/processes';
import { api, freePort, makeSite, startEdge, startServe } from './edge-site.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts', 'dashboard');
const dir = mkdtempSync(join(tmpdir(), 'km-dashboard-admin-'));
let browser: Browser | null = null;

afterAll(async () => {
  await browser?.close();
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

interface MemberRecord { member: string; name: string; contact: string; status: string; validUntil: number | null; keys: Record<string, number | null>; trainerFor: Record<string, Record<string, number> | null> }

async function view(page: Page, id: string): Promise<void> {
  await page.click(`nav button[data-view="${id}"]`);
  await page.waitForSelector(`nav button[data-view="${id}"][aria-current="page"]`);
}

/** Waits for the view's outcome line saying `state` with `text` in it (an earlier action's line is not it). */
async function outcome(page: Page, state: 'ok' | 'refused', text: string): Promise<void> {
  await page.waitForSelector(`main [data-outcome="${state}"]:has-text(${JSON.stringify(text)})`, { timeout: 10_000 });
}

test('the dashboard in Chromium: members added and edited, a card enrolled by its printed number, trainers, a browser approved as admin, conflicts on a member and a card resolved', async () => {
  expect(existsSync(CHROMIUM)).toBe(true);
  mkdirSync(ARTIFACTS, { recursive: true });
  const ports = { mqtt: await freePort(), http: await freePort() };
  const site = await makeSite(dir, { broker: `mqtt://127.0.0.1:${ports.mqtt}` });
  const coord = await startServe(site, ports);
  const door = await startEdge(site.door);
  await eventually('door online with fresh rules', async () => {
    const s = await door.panel.status();
    return s.online && s.rulesFreshAt !== null ? true : undefined;
  }, 20_000);
  const member = (id: string) => api<{ value: MemberRecord; heads: string[] }>(coord.http, `/api/policy/${encodeURIComponent(`member/${id}`)}`);

  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, timezoneId: 'UTC' });
  const page = await context.newPage();
  const failed: string[] = [];
  page.on('requestfailed', (r) => void (r.failure()?.errorText !== 'net::ERR_ABORTED' && failed.push(`${r.url()}: ${r.failure()?.errorText}`)));
  page.on('pageerror', (e) => failed.push(`page error: ${e.message}`));
  // Everything the page sends (HTTP and its MQTT frames): the card key and a typed number must never be in it.
  const sent: string[] = [];
  page.on('request', (r) => void sent.push(`${r.url()} ${r.postData() ?? ''}`));
  page.on('websocket', (ws) => ws.on('framesent', (f) => void sent.push(typeof f.payload === 'string' ? f.payload : f.payload.toString('latin1'))));
  await page.goto(`${coord.http}/`);
  await page.waitForSelector('[data-field="page-key"]:text-matches("^[0-9a-f]{64}$")');
  const pageKey = (await page.textContent('[data-field="page-key"]'))!;
  await page.setInputFiles('#key-file', site.admin[1]!);
  await page.click('[data-action="adopt-page-key"]');
  await page.waitForSelector('[data-field="signer"][data-kind="page"]', { timeout: 10_000 });
  const head = async () => (await api<{ seq: number }>(coord.http, `/api/feeds/${pageKey}/head`)).seq;

  // Add a member: id, name, contact, valid until (the end of that day in the page's zone, UTC here).
  await view(page, 'members');
  await page.click('[data-action="add-member"]');
  const add = async (id: string, name: string) => {
    await page.fill('[data-form="add-member"] input[name="member"]', id);
    await page.fill('[data-form="add-member"] input[name="name"]', name);
  };
  await add('carol', 'Carol Shaw');
  await page.fill('[data-form="add-member"] input[name="contact"]', 'carol@example.org');
  await page.fill('[data-form="add-member"] input[name="validUntil"]', '2031-03-14');
  await page.click('[data-form="add-member"] button[type="submit"]');
  await outcome(page, 'ok', 'Adding carol: signed');
  expect((await member('carol')).value).toEqual({ member: 'carol', name: 'Carol Shaw', contact: 'carol@example.org', status: 'active', validUntil: Date.UTC(2031, 2, 14, 23, 59, 59, 999), keys: {}, trainerFor: {} });
  await page.waitForSelector('[data-member="carol"] [data-field="contact"]:text-is("carol@example.org")', { timeout: 10_000 });
  // Refused, each in words and with nothing signed: an id taken, an id the protocol refuses.
  const signed = await head();
  await page.click('[data-action="add-member"]');
  await add('ada', 'Another Ada');
  await page.click('[data-form="add-member"] button[type="submit"]');
  await outcome(page, 'refused', 'already exists (Ada Lovelace)');
  await add('bad id!', 'Someone');
  await page.click('[data-form="add-member"] button[type="submit"]');
  await outcome(page, 'refused', 'Adding bad id! refused (BAD_INPUT): member: must be 1-64 characters');
  await page.click('[data-form="add-member"] button:text-is("Cancel")');
  expect(await head()).toBe(signed);
  expect((await member('ada')).value.name).toBe('Ada Lovelace');
  // Edit Ada: her name and contact change; her status, certifications and keys stay as they were.
  const adaBefore = (await member('ada')).value;
  await page.click('[data-member="ada"] button:text-is("Edit")');
  await page.fill('[data-form="edit-member"] input[name="contact"]', 'ada@example.org');
  await page.fill('[data-form="edit-member"] input[name="name"]', 'Ada King');
  await page.click('[data-form="edit-member"] button[type="submit"]');
  await outcome(page, 'ok', 'Saving ada: signed');
  expect((await member('ada')).value).toEqual({ ...adaBefore, name: 'Ada King', contact: 'ada@example.org' });
  await page.waitForSelector('[data-member="ada"] h3:has-text("Ada King")', { timeout: 10_000 });
  await page.screenshot({ path: join(ARTIFACTS, 'a1-members-added-edited.png'), fullPage: true });

  // Enrol Carol's fob by its printed number: the page asks for the site card key once; an admin
  // key file is not taken; a number that is not one is refused; the bound card opens the door.
  await page.click('[data-member="carol"] button:text-is("Enrol a card by its number")');
  await page.setInputFiles('[data-member="carol"] [data-field="card-key-file"]', site.admin[1]!);
  await page.waitForSelector('[data-member="carol"] .enrol [role="alert"]:has-text("that card key file was not taken")');
  await page.setInputFiles('[data-member="carol"] [data-field="card-key-file"]', join(site.data, 'card.key'));
  await page.fill('[data-form="enrol-number"] input[name="uid"]', '12ab');
  await page.click('[data-form="enrol-number"] button[type="submit"]');
  await page.waitForSelector('[data-member="carol"] .enrol [role="alert"]:has-text("that is not a card number")');
  expect(await head()).toBe(signed + 1);
  await page.fill('[data-form="enrol-number"] input[name="uid"]', '12345678');
  await page.click('[data-form="enrol-number"] button[type="submit"]');
  await outcome(page, 'ok', 'Binding the typed card to Carol Shaw: signed');
  const cardKey = (JSON.parse(readFileSync(join(site.data, 'card.key'), 'utf8')) as { key: string }).key;
  const ref = cardRef(cardKey, normaliseCardUid('12345678', 'decimal'));
  expect((await api<{ value: unknown }>(coord.http, `/api/policy/${encodeURIComponent(`card/${ref}`)}`)).value).toEqual({ card: ref, state: 'bound', member: 'carol' });
  const uid = normaliseCardUid('12345678', 'decimal'); // 00bc614e
  await eventually('the door to open for the fob', async () => {
    await new Promise((r) => setTimeout(r, 150));
    await door.panel.tap({ uid });
    const d = (await door.panel.status()).lastDecision;
    return d?.allow === true ? true : undefined;
  }, 15_000, 300);
  expect(await page.content()).not.toContain(uid);
  const leaked = sent.filter((x) => x.includes(cardKey) || x.includes(uid) || x.includes('12345678'));
  expect({ leaked, sentSomething: sent.some((x) => x.includes(ref)) }).toEqual({ leaked: [], sentSomething: true });
  // The card key stays in this browser (IndexedDB): the form is offered again without a file.
  await page.click('[data-member="bob"] button:text-is("Enrol a card by its number")');
  await page.waitForSelector('[data-member="bob"] [data-form="enrol-number"]');
  await page.click('[data-member="bob"] .enrol button:text-is("Cancel")');

  // Trainers: Ada may train for the laser, then no longer (withdrawn at her keys' heads: an object, not null).
  await view(page, 'trainers');
  await page.selectOption('[data-cert="laser"] [data-field="add-trainer"]', 'ada');
  await page.click('[data-cert="laser"] [data-action="add-trainer"]');
  await outcome(page, 'ok', 'Letting ada train for laser: signed');
  expect((await member('ada')).value.trainerFor).toEqual({ laser: null });
  await page.waitForSelector('[data-cert="laser"] [data-trainer="ada"]', { timeout: 10_000 });
  await page.screenshot({ path: join(ARTIFACTS, 'a2-trainers.png'), fullPage: true });
  await page.click('[data-cert="laser"] [data-trainer="ada"] button:text-is("Remove")');
  await outcome(page, 'ok', "Withdrawing ada's training for laser: signed");
  expect((await member('ada')).value.trainerFor.laser).toEqual({});
  await page.waitForSelector('[data-cert="laser"] [data-trainer="ada"]', { state: 'detached', timeout: 10_000 });

  // A second browser (its own profile and key) is approved from the first's Admins view.
  const other = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const second = await other.newPage();
  await second.goto(`${coord.http}/`);
  await second.waitForSelector('[data-field="page-key"]:text-matches("^[0-9a-f]{64}$")');
  const secondKey = (await second.textContent('[data-field="page-key"]'))!;
  expect(await second.$('[data-action="sign-in-own"]')).toBeNull();
  await view(page, 'admins');
  await page.fill('[data-form="add-admin"] input[name="key"]', secondKey.slice(0, 60));
  await page.click('[data-form="add-admin"] button[type="submit"]');
  await outcome(page, 'refused', 'Adding an admin refused (BAD_KEY)');
  await page.fill('[data-form="add-admin"] input[name="key"]', secondKey);
  await page.click('[data-form="add-admin"] button[type="submit"]');
  await outcome(page, 'ok', 'Adding an admin: signed');
  await page.waitForSelector(`[data-admin="${secondKey}"]`, { timeout: 10_000 });
  await page.screenshot({ path: join(ARTIFACTS, 'a3-admins.png'), fullPage: true });
  await second.reload();
  await second.click('[data-action="sign-in-own"]', { timeout: 10_000 });
  await second.waitForSelector('[data-field="signer"][data-kind="page"]');
  await second.screenshot({ path: join(ARTIFACTS, 'a4-second-browser-phone.png'), fullPage: true });
  await other.close();

  // A conflict: the page and the operator's key edit Bob at once (both naming the same heads).
  const before = (await member('bob')).heads;
  await view(page, 'members');
  await page.click('[data-member="bob"] button:text-is("Edit")');
  await page.fill('[data-form="edit-member"] input[name="contact"]', 'bob@page.example');
  await page.click('[data-form="edit-member"] button[type="submit"]');
  await outcome(page, 'ok', 'Saving bob: signed');
  const { keyPair: operator } = decodeKeyFile(readFileSync(site.admin[1]!, 'utf8'));
  const opHead = await api<{ line: string }>(coord.http, `/api/feeds/${operator.publicKey}/head`);
  const { site: siteId } = await api<{ site: string }>(coord.http, '/api/site');
  const bob = { member: 'bob', name: 'Bob Noyce', contact: 'bob@operator.example', status: 'active' as const, validUntil: null, keys: [], trainerFor: [] };
  const concurrent = nextEntry(parseEntryText(opHead.line).entry, 'member.put', bob, operator, { site: siteId, deps: before });
  const res = await fetch(`${coord.http}/api/entries`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ entry: concurrent.wire }) });
  expect(res.status).toBe(201);
  expect((await api<{ conflicts: { key: string; heads: string[] }[] }>(coord.http, '/api/conflicts')).conflicts).toEqual([{ key: 'member/bob', heads: expect.arrayContaining([concurrent.hash]) }]);
  await view(page, 'alarms');
  await page.click('[data-conflict="member/bob"] button:text-is("Keep the record as it reads now")', { timeout: 10_000 });
  await outcome(page, 'ok', 'Resolving member/bob: signed');
  expect((await api<{ conflicts: unknown[] }>(coord.http, '/api/conflicts')).conflicts).toEqual([]);
  await page.waitForSelector('[data-conflict="member/bob"]', { state: 'detached', timeout: 10_000 });
  expect((await member('bob')).heads).toHaveLength(1);
  await page.waitForSelector('[data-alarm]:has-text("member/bob")', { state: 'detached', timeout: 10_000 });

  // A card conflict: the page binds a typed fob to Bob while the operator's key binds it to Ada,
  // neither knowing the other; the card opens nothing until the page binds it to one of them.
  const ref2 = cardRef(cardKey, normaliseCardUid('0a:0b:0c:99', 'hex'));
  await view(page, 'members');
  await page.click('[data-member="bob"] button:text-is("Enrol a card by its number")');
  await page.selectOption('[data-member="bob"] [data-form="enrol-number"] select[name="form"]', 'hex');
  await page.fill('[data-member="bob"] [data-form="enrol-number"] input[name="uid"]', '0a:0b:0c:99');
  await page.click('[data-member="bob"] [data-form="enrol-number"] button[type="submit"]');
  await outcome(page, 'ok', 'Binding the typed card to Bob Noyce: signed');
  const opHead2 = await api<{ line: string }>(coord.http, `/api/feeds/${operator.publicKey}/head`);
  const toAda = nextEntry(parseEntryText(opHead2.line).entry, 'card.bind', { card: ref2, member: 'ada' }, operator, { site: siteId, deps: [] });
  const res2 = await fetch(`${coord.http}/api/entries`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ entry: toAda.wire }) });
  expect(res2.status).toBe(201);
  const card2 = () => api<{ value: unknown; heads: string[] }>(coord.http, `/api/policy/${encodeURIComponent(`card/${ref2}`)}`);
  expect((await card2()).value).toEqual({ card: ref2, state: 'conflict', members: expect.arrayContaining(['ada', 'bob']) });
  await view(page, 'alarms');
  await page.click(`[data-conflict="card/${ref2}"] button:text-is("Bind the card to bob")`, { timeout: 10_000 });
  await outcome(page, 'ok', `Resolving card/${ref2}: signed`);
  expect(await card2()).toMatchObject({ value: { card: ref2, state: 'bound', member: 'bob' }, heads: [expect.any(String)] });
  expect((await api<{ conflicts: unknown[] }>(coord.http, '/api/conflicts')).conflicts).toEqual([]);
  await page.screenshot({ path: join(ARTIFACTS, 'a5-alarms-resolved.png'), fullPage: true });

  expect(failed).toEqual([]);
}, 120_000);
