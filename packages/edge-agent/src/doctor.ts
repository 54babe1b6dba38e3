/**
 * `keymesh-edge doctor`: what an operator checks when a door does not open. Each check says
 * what it found and, when something is wrong, what to do. Nothing here changes the replica.
 */
import mqtt from 'mqtt';
import { Ledger } from '@keymesh/ledger';
import { makeLoginToken, nodeMayDecide, rulesAreStale } from '@keymesh/protocol';
import type { EdgeConfig } from './config/schema.js';
import { edgePaths, readEdgeKey, readEnrolment, runningAgent, type Enrolment } from './data-dir.js';
import { closeAllDevices, deviceList, openDevices } from './drivers/open.js';
import type { KeyPair } from '@keymesh/protocol';

export interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

const ok = (name: string, detail: string): Check => ({ name, status: 'ok', detail });
const fail = (name: string, detail: string, fix: string, status: 'fail' | 'warn' = 'fail'): Check => ({ name, status, detail, fix });

function ago(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 172_800_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 86_400_000)} days`;
}

async function checkDevices(config: EdgeConfig): Promise<Check[]> {
  const paths = edgePaths(config.data);
  const running = runningAgent(paths);
  if (running) return [ok('devices', `not opened: the agent (process ${running.pid}) owns them${running.panel ? `; its panel is ${running.panel}` : ''}`)];
  const problems: string[] = [];
  const env = { log: (level: string, msg: string) => (level !== 'info' ? problems.push(msg) : undefined), now: () => Date.now() };
  try {
    const d = await openDevices(config.devices, env, config.boards);
    const names = deviceList(d).map((x) => x.name);
    await closeAllDevices(d);
    return [ok('devices', `opened and released: ${names.join(', ')}${problems.length ? ` (warnings: ${problems.join('; ')})` : ''}`)];
  } catch (err) {
    return [fail('devices', (err as Error).message, 'check the wiring and the device paths in the config; `keymesh-edge schema` lists every driver\'s fields')];
  }
}

function checkBroker(url: string, e: Enrolment, key: KeyPair, now: number, timeoutMs: number): Promise<Check> {
  const clientId = `edge-doctor-${key.publicKey.slice(0, 12)}`;
  const creds = e.broker.username !== undefined && e.broker.password !== undefined ? { username: e.broker.username, password: e.broker.password } : makeLoginToken({ clientId, site: e.site, now }, key);
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { clientId, ...creds, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: timeoutMs });
    const done = (c: Check) => {
      clearTimeout(t);
      client.end(true);
      resolve(c);
    };
    const t = setTimeout(() => done(fail('broker', `${url} did not answer within ${timeoutMs} ms`, 'check the network, that the coordinator runs (`keymesh status`) and the broker address (broker.url in the config or the provisioning file)')), timeoutMs);
    client.on('connect', () => done(ok('broker', `${url} accepted this node's login`)));
    client.on('error', (err) => done(fail('broker', `${url} refused: ${err.message}`, /auth/i.test(err.message)
      ? "the broker does not accept this node: is it enrolled (and not retired)? Is this machine's clock within 5 minutes of the coordinator's?"
      : 'check the broker address and that the coordinator runs')));
  });
}

export async function checkSetup(config: EdgeConfig, o: { brokerTimeoutMs: number }): Promise<Check[]> {
  const paths = edgePaths(config.data);
  const checks: Check[] = [];
  let e: Enrolment;
  let key: KeyPair;
  try {
    e = readEnrolment(paths);
    key = readEdgeKey(paths);
    checks.push(ok('enrolment', `site "${e.siteName}", node "${e.node.name}" (${e.node.kind}, resource ${e.node.resource}), key ${key.publicKey.slice(0, 16)}…`));
  } catch (err) {
    return [fail('enrolment', (err as Error).message, 'run `keymesh-edge enrol PROVISIONING_FILE --data DIR` with the file `keymesh node enrol` wrote')];
  }
  checks.push(...await checkDevices(config));
  const ledger = Ledger.open(paths.ledger, { site: e.site });
  let now: number;
  try {
    const policy = ledger.policy;
    now = ledger.now();
    checks.push(nodeMayDecide(policy, key.publicKey, e.node.resource)
      ? ok('authority', `this node may decide for ${e.node.resource}`)
      : fail('authority', `the rules held here do not enrol this key for ${e.node.resource} (or it was retired)`, `an admin runs \`keymesh node enrol "${e.node.name}" --kind ${e.node.kind} --resource ${e.node.resource} --node-key ${key.publicKey}\`; then let the node sync`));
    const wall = Date.now();
    checks.push(now - wall > 60_000
      ? fail('clock', `the wall clock is ${ago(now - wall)} behind the newest time verified from the coordinator`, 'set the clock (NTP, or an RTC); until then the node decides on the verified time, which is safe but may lag', 'warn')
      : ok('clock', `wall clock ${new Date(wall).toISOString()}`));
    const freshText = ledger.note('rulesFreshAt');
    const freshAt = freshText === undefined ? null : Number(freshText);
    const resource = policy.resource(e.node.resource);
    if (freshAt === null || !Number.isFinite(freshAt)) checks.push(fail('rules', 'this node has never confirmed it holds every rule the coordinator holds', 'let it reach the broker once (see the broker check)', resource && rulesAreStale(resource, now, { rulesSyncedAt: null }) ? 'fail' : 'warn'));
    else if (resource && rulesAreStale(resource, now, { rulesSyncedAt: freshAt })) checks.push(fail('rules', `rules last confirmed fresh ${ago(now - freshAt)} ago: stale for ${e.node.resource} (maxStaleHours ${resource.maxStaleHours}); only admins may use it`, 'reconnect the node to the broker'));
    else checks.push(ok('rules', `last confirmed fresh ${ago(Math.max(0, now - freshAt))} ago`));
  } finally {
    ledger.close();
  }
  checks.push(await checkBroker(config.broker.url ?? e.broker.url, e, key, now, o.brokerTimeoutMs));
  return checks;
}
