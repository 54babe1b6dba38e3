// The acceptance, as an operator meets it: `keymesh init`, `keymesh resource add`,
// `keymesh node enrol`, `keymesh serve` as a real process; /healthz answers; Debian's
// mosquitto_sub without credentials is refused, and with a node's login token sees the
// retained heads; after SIGKILL and a restart the heads are retained again (republished from
// SQLite, since the embedded broker's memory died with it).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProvisioningFile, fromHex, keyPairFromSeed, makeLoginToken, siteTopicId } from '@keymesh/protocol';
import { KEYMESH_BIN, eventually, exited, jsonFileWhenReady, keymesh, run, start, stopAll } from '@keymesh/testkit/processes';

const dir = mkdtempSync(join(tmpdir(), 'km-serve-'));
const data = join(dir, 'data');
const keys = join(dir, 'keys');
afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

async function ok(args: string[]): Promise<string> {
  const r = await keymesh([...args, '--data', data], { env: { XDG_CONFIG_HOME: join(dir, 'config') } });
  if (r.code !== 0) throw new Error(`keymesh ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

function serve() {
  rmSync(join(data, 'serve.json'), { force: true }); // a SIGKILLed server leaves its record behind
  return start(process.execPath, [KEYMESH_BIN, 'serve', '--data', data, '--mqtt-port', '0', '--http-port', '0', '--host', '127.0.0.1'], { env: { XDG_CONFIG_HOME: join(dir, 'config') } });
}

async function sub(args: string[]) {
  return run('mosquitto_sub', ['-V', 'mqttv311', '-h', '127.0.0.1', ...args], { timeoutMs: 15_000 });
}

test('init, enrol, serve: /healthz, mosquitto_sub refused without credentials and served with a node token', async () => {
  const init = JSON.parse(await ok(['init', '--site', 'Acceptance Space', '--keys', keys, '--json'])) as { site: string; dailyAdminKey: string; dailyAdmin: string };
  const again = await keymesh(['init', '--site', 'Again', '--data', data, '--keys', keys]);
  expect(again.code).toBe(1);
  expect(again.stderr).toMatch(/already holds a site/);
  await ok(['resource', 'add', 'front-door', '--name', 'Front door', '--kind', 'door', '--key', init.dailyAdminKey]);
  const enrolled = JSON.parse(await ok(['node', 'enrol', 'front-door-pi', '--kind', 'door', '--resource', 'front-door', '--out', join(dir, 'pi.json'), '--key', init.dailyAdminKey, '--json'])) as { node: string };
  const prov = ProvisioningFile.parse(JSON.parse(readFileSync(join(dir, 'pi.json'), 'utf8')));
  expect(prov.node.key).toBe(enrolled.node);
  const node = keyPairFromSeed(fromHex(prov.node.seed!));

  let server = serve();
  let rec = await jsonFileWhenReady<{ http: string; mqtt: string }>(join(data, 'serve.json'));
  const health = await (await fetch(`${rec.http}/healthz`)).json() as { ok: boolean; site: string };
  expect(health).toMatchObject({ ok: true, site: init.site });
  let port = new URL(rec.mqtt).port;
  const heads = `keymesh/v1/${siteTopicId(init.site)}/head/+`;

  const anonymous = await sub(['-p', port, '-t', heads, '-C', '1', '-W', '5']);
  expect(anonymous.code).not.toBe(0);
  expect(anonymous.stderr).toMatch(/not authori[sz]ed/i);

  const made = await sub(['-p', port, '-i', 'made-up', '-u', 'a'.repeat(64), '-P', '{"ts":1,"sig":"00"}', '-t', heads, '-C', '1', '-W', '5']);
  expect(made.code).not.toBe(0);

  const login = () => makeLoginToken({ clientId: 'pi-sub', site: init.site }, node);
  const seen = async () => {
    const t = login();
    const r = await sub(['-p', port, '-i', 'pi-sub', '-u', t.username, '-P', t.password, '-t', heads, '-C', '1', '-W', '5', '-v']);
    expect(r.code).toBe(0);
    return r.stdout.trim().split('\n');
  };
  const lines = await seen();
  // The one feed so far is the admin's (the coordinator appends nothing before it has heard a node).
  expect(lines).toHaveLength(1);
  expect(lines[0]!.startsWith(heads.slice(0, -1) + init.dailyAdmin)).toBe(true);
  expect(JSON.parse(lines[0]!.slice(lines[0]!.indexOf(' ') + 1))).toMatchObject({ author: init.dailyAdmin, seq: 4 });

  // SIGKILL: the broker's memory dies; a new server republishes the heads from SQLite.
  server.kill('SIGKILL');
  await exited(server);
  server = serve();
  rec = await jsonFileWhenReady(join(data, 'serve.json'));
  port = new URL(rec.mqtt).port;
  expect(await seen()).toEqual(lines);

  server.kill('SIGTERM');
  expect((await exited(server)).code).toBe(0);
  await eventually('serve.json removed', () => { try { readFileSync(join(data, 'serve.json')); return undefined; } catch { return true; } });
}, 90_000);
