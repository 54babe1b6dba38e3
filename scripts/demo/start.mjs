// Starts the demo's processes and waits until each is really up: the coordinator answers on
// HTTP, each agent's panel answers and says it is online, and the coordinator has heard each
// node's signed status.
import { writeFileSync } from 'node:fs';
import YAML from 'yaml';
import { NODES, PREFERRED_HTTP_PORT, PREFERRED_MQTT_PORT, simCards } from './cast.mjs';
import { Child, agentRecordPath, getJson, portOr0, recordOf, serveRecordPath, waitFor } from './processes.mjs';

const COORDINATOR_BIN = 'packages/coordinator/bin/keymesh.js';
const EDGE_BIN = 'packages/edge-agent/bin/keymesh-edge.js';

/** The edge config of one node for this run (the broker's port may differ from the last run's). */
export function edgeConfig(paths, n, brokerUrl, panelPort) {
  const devices = { reader: { driver: 'sim' }, relay: { driver: 'sim' } };
  if (n.kind === 'door') Object.assign(devices, { doorSensor: { driver: 'sim' }, exitButton: { driver: 'sim' } });
  else Object.assign(devices, { estop: { driver: 'sim' }, activity: { driver: 'sim' } });
  Object.assign(devices, { greenLed: { driver: 'sim' }, redLed: { driver: 'sim' }, buzzer: { driver: 'sim' }, display: { driver: 'sim', columns: 20, rows: 4 } });
  const config = {
    data: paths.edge(n.id),
    broker: { url: brokerUrl },
    sync: { intervalMs: 2000 },
    panel: { host: '127.0.0.1', port: panelPort },
    log: { level: 'info' },
    devices,
    simCards: simCards(),
  };
  const text = `# Written by scripts/demo.mjs for each run (${n.name}); edit the demo's cast, not this file.\n${YAML.stringify(config)}`;
  writeFileSync(paths.edgeConfig(n.id), text, { mode: 0o600 });
  return paths.edgeConfig(n.id);
}

/** Starts the coordinator; resolves with { child, http, mqtt } once its API answers. */
export async function startCoordinator(root, paths, { anyPort }, say) {
  const startedAt = Date.now();
  const mqttPort = anyPort ? 0 : await portOr0(PREFERRED_MQTT_PORT);
  const httpPort = anyPort ? 0 : await portOr0(PREFERRED_HTTP_PORT);
  say(`starting the coordinator: keymesh serve (MQTT port ${mqttPort || 'any free'}, HTTP port ${httpPort || 'any free'}; log ${paths.log('coordinator')})`);
  const child = new Child('the coordinator', [COORDINATOR_BIN, 'serve', '--data', paths.site, '--mqtt-port', String(mqttPort), '--http-port', String(httpPort), '--host', '127.0.0.1'], paths.log('coordinator'), root);
  const rec = await waitFor(child, 'serve.json', 30_000, () => recordOf(serveRecordPath(paths.site), child.pid));
  const http = rec.http.endsWith('/') ? rec.http : `${rec.http}/`;
  await waitFor(child, 'answer on its HTTP API', 15_000, () => getJson(new URL('api/status', http)));
  return { child, http, mqtt: rec.mqtt, startedAt };
}

/**
 * Starts the three agents at once, pushing { node, child, panel } onto `agents` as each is
 * spawned (so the caller can stop them if a later one fails); resolves once each is up and online.
 */
export async function startAgents(root, paths, coordinator, { anyPort }, say, agents) {
  const { mqtt, http: coordinatorHttp } = coordinator;
  for (const n of NODES) {
    const port = anyPort ? 0 : await portOr0(n.preferredPanelPort);
    const config = edgeConfig(paths, n, mqtt, port);
    say(`starting the ${n.name} agent: keymesh-edge run --config ${config}`);
    agents.push({ node: n, child: new Child(`the ${n.name} agent`, [EDGE_BIN, 'run', '--config', config], paths.log(n.id), root), panel: null });
  }
  await Promise.all(agents.map(async (a) => {
    const rec = await waitFor(a.child, 'agent.json with its panel', 30_000, () => {
      const r = recordOf(agentRecordPath(paths.edge(a.node.id)), a.child.pid);
      return r?.panel ? r : undefined;
    });
    a.panel = rec.panel;
    await waitFor(a.child, 'panel answer', 15_000, () => getJson(new URL('api/status', a.panel)));
    say(`${a.node.name}: panel ${a.panel} answers; waiting for it to come online`);
    await waitFor(a.child, 'connection to the broker (panel says online)', 45_000, async () => ((await getJson(new URL('api/status', a.panel))).online ? true : undefined));
  }));
  // The coordinator counts a node online once it has heard its signed status.
  const names = NODES.map((n) => n.node);
  await waitFor(agents[0].child, 'online in the coordinator\'s status', 30_000, async () => {
    const s = await getJson(new URL('api/status', coordinatorHttp));
    return names.every((name) => s.nodes.some((row) => row.name === name && row.online)) ? true : undefined;
  });
  say('all three agents are online (their panels and the coordinator say so); waiting for each to hold the rules');
  // Online is not caught up: a node decides "not enrolled" until its replica holds the admin
  // feed. Fresh = it held everything the coordinator's signed have named, since this start.
  const since = coordinator.startedAt;
  const late = [];
  await Promise.all(agents.map(async (a) => {
    try {
      await waitFor(a.child, 'rules confirmed fresh', 20_000, async () => ((await getJson(new URL('api/status', a.panel))).rulesFreshAt >= since ? true : undefined));
    } catch (err) {
      if (!a.child.running) throw err;
      late.push(a.node.name);
    }
  }));
  if (late.length) say(`warning: ${late.join(', ')} has not confirmed its rules are fresh within 20 s; taps there decide on the rules it holds (see its log in ${paths.logs})`);
  else say('every agent holds the current rules');
  return agents;
}
