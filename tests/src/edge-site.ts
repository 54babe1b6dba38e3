// A site made the way an operator makes it (real `keymesh` and `keymesh-edge` processes): a
// door and a laser cutter (a machine needing its own certification), members with cards, and
// edge data folders enrolled from the provisioning files `keymesh node enrol` wrote. Also the
// panel and coordinator HTTP calls the edge system tests make.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { enrol } from '@keymesh/edge-agent/enrol';
import { KEYMESH_BIN, KEYMESH_EDGE_BIN, eventually, jsonFileWhenReady, keymesh, keymeshEdge, start } from '@keymesh/testkit/processes';

export interface SiteCard { member: string; name: string; uid: string }

/** Ada holds the laser certification; Bob does not. */
export const CARDS: readonly SiteCard[] = [
  { member: 'ada', name: 'Ada Lovelace', uid: '0a0b0c0d' },
  { member: 'bob', name: 'Bob Noyce', uid: '0b0c0d0e' },
];
export const UNKNOWN_UID = '0badc0ffee';

export interface EdgeNode { name: string; resource: string; kind: 'door' | 'machine'; data: string; config: string }

export interface EdgeSite {
  dir: string;
  data: string;
  env: NodeJS.ProcessEnv;
  door: EdgeNode;
  /** Made unless `makeSite(…, { laser: false })`. */
  laser?: EdgeNode;
}

/** Runs `keymesh … --data` and returns stdout; throws with stderr on a non-zero exit. */
export async function keymeshOk(site: { data: string; env: NodeJS.ProcessEnv }, args: string[]): Promise<string> {
  const r = await keymesh([...args, '--data', site.data], { env: site.env });
  if (r.code !== 0) throw new Error(`keymesh ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** A port free now on 127.0.0.1 (bound to 0, read, released): a server restarted on it is found again. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Writes an edge config for sim hardware (taps closer than 100 ms are one). */
export function writeEdgeConfig(path: string, o: { data: string; broker?: string; extra?: Record<string, unknown> }): void {
  const config = {
    data: o.data,
    ...(o.broker ? { broker: { url: o.broker, reconnectMinMs: 200, reconnectMaxMs: 1000 } } : {}),
    sync: { intervalMs: 500 },
    panel: { host: '127.0.0.1', port: 0 },
    log: { level: 'info' },
    devices: { reader: { driver: 'sim' }, relay: { driver: 'sim' }, doorSensor: { driver: 'sim' }, greenLed: { driver: 'sim' }, redLed: { driver: 'sim' } },
    // Taps of one card closer than 100 ms are one; unknown cards not rate-limited in these tests.
    taps: { tapRepeatMs: 100, unknownRepeatMs: 1000, unknownBurst: 100, unknownIntervalMs: 100 },
    simCards: CARDS.map((c) => ({ label: c.name, uid: c.uid })),
    ...o.extra,
  };
  writeFileSync(path, JSON.stringify(config, null, 2));
}

/** init, the door and the laser, members and cards, Ada's certification, both nodes enrolled and their edge folders made. */
export async function makeSite(dir: string, o: { broker?: string; unlockSeconds?: number; laser?: boolean } = {}): Promise<EdgeSite & { admin: string[] }> {
  const site = { dir, data: join(dir, 'coord'), env: { XDG_CONFIG_HOME: join(dir, 'config') } };
  const init = JSON.parse(await keymeshOk(site, ['init', '--site', 'Edge System Space', '--keys', join(dir, 'keys'), '--json'])) as { dailyAdminKey: string };
  const admin = ['--key', init.dailyAdminKey];
  await keymeshOk(site, ['resource', 'add', 'front-door', '--name', 'Front door', '--kind', 'door', '--unlock-seconds', String(o.unlockSeconds ?? 4), ...admin]);
  const laser = o.laser !== false;
  if (laser) await keymeshOk(site, ['resource', 'add', 'laser', '--name', 'Laser cutter', '--kind', 'machine', ...admin]);
  for (const c of CARDS) {
    await keymeshOk(site, ['member', 'add', c.member, '--name', c.name, ...admin]);
    await keymeshOk(site, ['card', 'bind', c.uid, '--form', 'hex', '--member', c.member, ...admin]);
  }
  if (laser) await keymeshOk(site, ['cert', 'grant', 'ada', 'laser', ...admin]);
  const node = async (name: string, kind: 'door' | 'machine', resource: string): Promise<EdgeNode> => {
    const prov = join(dir, `${name}.json`);
    await keymeshOk(site, ['node', 'enrol', name, '--kind', kind, '--resource', resource, '--out', prov, ...admin]);
    const data = join(dir, name);
    // The first node through the CLI as the operator runs it; the second in process (the
    // same function, one process start fewer on a loaded CI machine).
    if (kind === 'door') {
      const r = await keymeshEdge(['enrol', prov, '--data', data]);
      if (r.code !== 0) throw new Error(`keymesh-edge enrol exited ${r.code}: ${r.stderr}`);
    } else {
      enrol(prov, data);
    }
    const config = join(dir, `${name}.edge.json`);
    writeEdgeConfig(config, { data, ...(o.broker ? { broker: o.broker } : {}) });
    return { name, resource, kind, data, config };
  };
  const door = await node('front-door-pi', 'door', 'front-door');
  return { ...site, admin, door, ...(laser ? { laser: await node('laser-pi', 'machine', 'laser') } : {}) };
}

/** `keymesh serve` on fixed ports (so the edges find a restarted one); resolves with its URLs. */
export async function startServe(site: EdgeSite, ports: { mqtt: number; http: number }) {
  rmSync(join(site.data, 'serve.json'), { force: true }); // a killed server's record would be read as the new one's
  const p = start(process.execPath, [KEYMESH_BIN, 'serve', '--data', site.data, '--mqtt-port', String(ports.mqtt), '--http-port', String(ports.http), '--host', '127.0.0.1'], { env: site.env });
  const rec = await jsonFileWhenReady<{ http: string; mqtt: string; pid: number }>(join(site.data, 'serve.json'));
  return { process: p, http: rec.http.replace(/\/$/, ''), mqtt: rec.mqtt };
}

/** `keymesh-edge run`; resolves once its panel listens (its record names the panel). */
export async function startEdge(node: EdgeNode, env: NodeJS.ProcessEnv = {}) {
  const p = start(process.execPath, [KEYMESH_EDGE_BIN, 'run', '--config', node.config], { env });
  const rec = await eventually(`${node.name}'s panel address`, () => {
    if (p.exitCode !== null) throw new Error(`keymesh-edge run exited ${p.exitCode}: ${p.output()}`);
    try {
      const r = JSON.parse(readFileSync(join(node.data, 'agent.json'), 'utf8')) as { pid: number; panel: string | null };
      return r.panel && r.pid === p.pid ? r.panel : undefined;
    } catch {
      return undefined;
    }
  }, 20_000);
  return { process: p, panel: new Panel(rec) };
}

export interface PanelStatus {
  state: string;
  online: boolean;
  member: { id: string; name: string } | null;
  lastDecision: { allow: boolean; reason: string; message: string; member: string | null; at: number } | null;
  rulesFreshAt: number | null;
  sim: { outputs: Array<{ name: string; on: boolean }> } | null;
}

/** The agent's local panel, over HTTP as a kiosk or `keymesh-edge tap` uses it. */
export class Panel {
  constructor(readonly url: string) {}

  private at(path: string): string {
    return `${this.url.replace(/\/$/, '')}${path}`;
  }

  async status(): Promise<PanelStatus> {
    const res = await fetch(this.at('/api/status'));
    if (!res.ok) throw new Error(`panel status: ${res.status}`);
    return (await res.json()) as PanelStatus;
  }

  async output(name: string): Promise<boolean> {
    const o = (await this.status()).sim?.outputs.find((x) => x.name === name);
    if (!o) throw new Error(`the panel shows no sim output ${name}`);
    return o.on;
  }

  async tap(body: { card: string } | { uid: string }): Promise<{ ok: boolean; message: string }> {
    const res = await fetch(this.at('/api/sim/tap'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`tap: ${res.status} ${await res.text()}`);
    return (await res.json()) as { ok: boolean; message: string };
  }
}

/** GET on the coordinator's HTTP API. */
export async function api<T>(http: string, path: string): Promise<T> {
  const res = await fetch(`${http}${path}`);
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
