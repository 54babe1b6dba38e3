// `npm run demo` as a person runs it (scripts/demo.mjs; the build is `npm test`'s own): set up
// from nothing, every process up, a tap at each panel, stopped in order. Then a second run
// that reuses the site, takes a tap typed at its prompt, shows it on that panel, and stops on
// SIGINT with the agents' outputs safe before the coordinator stops. Its printed dashboard link
// opens in Debian's Chromium (playwright-core) signed in with the demo's key, and a tap typed
// at the prompt shows in the page's live log (screenshot in tests/artifacts/demo/, git-ignored).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { REPO_ROOT, eventually, run } from '@keymesh/testkit/processes';
import { tempDir } from '@keymesh/testkit/temp-files';

const DEMO = join(REPO_ROOT, 'scripts', 'demo.mjs');
const URL_RE = 'http://127\\.0\\.0\\.1:\\d+/';
const data = join(tempDir('km-demo-'), 'demo-data');
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts', 'demo');
let browser: Browser | null = null;

afterAll(async () => {
  await browser?.close();
});

const urlOf = (out: string, label: string): string => {
  const m = new RegExp(`^  ${label}\\s+(${URL_RE})`, 'm').exec(out);
  if (!m) throw new Error(`no ${label} URL in the demo's output:\n${out}`);
  return m[1]!;
};

test('--help explains the flags; an unknown flag is refused with the help', async () => {
  const help = await run(process.execPath, [DEMO, '--help']);
  expect(help.code).toBe(0);
  for (const flag of ['--reset', '--data', '--no-prompt', '--once']) expect(help.stdout).toContain(flag);
  const bad = await run(process.execPath, [DEMO, '--frobnicate']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--reset');
});

test('--once --reset: sets the site up, starts a coordinator and three agents, taps at each panel, stops everything, exit 0', async () => {
  const r = await run(process.execPath, [DEMO, '--once', '--reset', '--data', data], { timeoutMs: 100_000, cwd: REPO_ROOT });
  const out = r.stdout + r.stderr;
  expect(r.code === 0 ? 0 : `exit ${r.code}:\n${out.slice(-4000)}`).toBe(0);
  expect(out).toContain('setting the demo site up afresh');
  for (const label of ['Coordinator', 'Front door', 'Laser cutter', 'CNC router']) expect(urlOf(out, label)).toMatch(new RegExp(URL_RE));
  expect(out).toMatch(new RegExp(`^  Dashboard\\s+${urlOf(out, 'Coordinator').replace(/\./g, '\\.')}#demo-key=[0-9a-f]{64}$`, 'm'));
  expect(new Set(['Front door', 'Laser cutter', 'CNC router'].map((l) => urlOf(out, l))).size).toBe(3);
  expect(out).toContain('every panel answered and shows its tap');
  expect(out).toMatch(/npx keymesh-edge tap 0a0b0c0d --panel http/);
  // Agents before the coordinator, each saying its outputs went safe.
  const coordinatorStop = out.indexOf('stopping the coordinator');
  for (const n of ['Front door', 'Laser cutter', 'CNC router']) {
    const at = out.indexOf(`${n} agent stopped (exit 0); its log says its outputs`);
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(coordinatorStop);
  }
  expect(out).toContain('coordinator stopped (exit 0)');
  // Nothing is left running on the folder.
  expect(existsSync(join(data, 'site', 'serve.json'))).toBe(false);
  for (const id of ['door', 'laser', 'cnc']) expect(existsSync(join(data, 'edges', id, 'agent.json'))).toBe(false);
}, 120_000);

test('a second run reuses the site; a tap typed at its prompt shows on that panel and in the live log of the printed dashboard link; SIGINT stops everything, exit 0', async () => {
  expect(existsSync(CHROMIUM)).toBe(true); // .ci/run installs Debian's chromium when missing
  const p = spawn(process.execPath, [DEMO, '--data', data, '--any-port'], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
  try {
    await eventually('the prompt', () => (out.includes('keymesh-demo>') ? true : undefined), 60_000);
    expect(out).toContain('reusing the demo site');
    const door = urlOf(out, 'Front door');
    const link = new RegExp(`^  Dashboard\\s+(${URL_RE}#demo-key=[0-9a-f]{64})$`, 'm').exec(out)?.[1];
    expect(link).toBeDefined();
    const http = new URL(link!);
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', `--host-resolver-rules=MAP demo.invalid ${http.hostname}`] });
    // Refused: the link's key on a page not served from this machine (the same coordinator, by another name).
    const remote = await browser.newPage();
    await remote.goto(link!.replace(http.hostname, 'demo.invalid'));
    await remote.waitForSelector('#key-file');
    expect(remote.url()).not.toContain('demo-key');
    expect(await remote.evaluate('sessionStorage.getItem("keymesh-demo-key")')).toBeNull();
    // Refused: a key that is not an admin of the site (the page says so and signs nothing).
    const stranger = await browser.newPage();
    await stranger.goto(link!.replace(/demo-key=[0-9a-f]{64}/, `demo-key=${'7'.repeat(64)}`));
    await stranger.waitForSelector('.signin [role="alert"]:has-text("not an admin")');
    expect(stranger.url()).not.toContain('demo-key');
    // The printed link: signed in with the demo's key, its fragment gone from the address bar.
    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    await page.goto(link!);
    await page.waitForSelector('[data-field="signer"][data-kind="demo"]');
    expect(page.url()).toBe(http.origin + '/');
    await page.waitForSelector('[data-field="conn"]:has-text("live")');
    await page.click('nav button[data-view="log"]');
    // The log's first page from the API holds the first run's taps: then "no Alan row yet" means something.
    await page.waitForSelector('table.log tr:has(td[data-field="member"]:text-is("Ada Lovelace"))', { timeout: 10_000 });
    const alanRow = 'table.log tr.deny:has(td[data-field="member"]:text-is("Alan Turing"))';
    expect(await page.$$(alanRow)).toHaveLength(0);
    p.stdin.write('tap alan door\n');
    await eventually('the tap answer', () => (/DENIED at the Front door: Alan Turing's badge/.test(out) ? true : undefined), 15_000);
    await page.waitForSelector(alanRow, { timeout: 10_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-live-log.png'), fullPage: true });
    p.stdin.write('tap hedy door\n');
    await eventually('the tap answer', () => (/DENIED at the Front door: Hedy Lamarr's badge — membership has expired/.test(out) ? true : undefined), 15_000);
    const status = (await (await fetch(new URL('api/status', door))).json()) as { lastDecision: { allow: boolean; member: string; reason: string } | null };
    expect(status.lastDecision).toMatchObject({ allow: false, member: 'Hedy Lamarr', reason: 'MEMBERSHIP_EXPIRED' });
    p.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('SIGINT: stopping everything');
    expect(out.indexOf('Front door agent stopped (exit 0)')).toBeLessThan(out.indexOf('coordinator stopped (exit 0)'));
  } catch (err) {
    // What each page showed, to be looked at: a timeout alone does not say which step stopped.
    const pages = browser?.contexts().flatMap((c) => c.pages()) ?? [];
    const seen = await Promise.all(pages.map(async (pg, i) => {
      await pg.screenshot({ path: join(ARTIFACTS, `failed-${i}.png`), fullPage: true }).catch(() => undefined);
      return `page ${i} ${pg.url()}: ${((await pg.textContent('body').catch(() => '')) ?? '').slice(0, 600)}`;
    }));
    throw new Error(`${(err as Error).message}\n${seen.join('\n')}\ndemo output:\n${out.slice(-2500)}`);
  } finally {
    // The demo's children run in process groups of their own: only the demo stops them, so it
    // gets SIGINT and time to do so before it is killed.
    if (p.exitCode === null) {
      p.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (p.exitCode === null) p.kill('SIGKILL');
    }
  }
}, 140_000);
