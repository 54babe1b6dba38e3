import { notifyReady, notifyStopping, startWatchdog } from '@keymesh/ledger/cli';
import { Agent } from '../../agent/agent.js';
import { installSafety } from '../../agent/safety.js';
import { loadConfig } from '../../config/load.js';
import { createLogger } from '../../log.js';
import { flag, type EdgeCommand } from '../command.js';

export const runCommand: EdgeCommand = {
  name: 'run',
  summary: 'run the agent: read badges, decide on the local replica, drive the relay, sync when online',
  usage: '--config FILE',
  help: `Runs until SIGINT or SIGTERM. The outputs are driven to their safe state first, before the
replica or the network is touched, and again on every way out (signals, an uncaught error).
Taps are decided on the local replica and never wait for the broker; entries queue in the
node's own feed and sync when the broker is reachable. Logs are JSON lines on stdout.

  --config FILE   the config (YAML or JSON): devices, panel, timings; see hardware/examples/
                  and \`keymesh-edge schema\` for every field

Example: keymesh-edge run --config /etc/keymesh-edge/edge.yaml`,
  flags: { config: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  async run(r) {
    const path = flag(r, 'config');
    if (!path) {
      process.stderr.write('keymesh-edge: --config FILE is required (see hardware/examples/ for one per kind of hardware).\n');
      return 2;
    }
    const config = loadConfig(path);
    const log = createLogger({ level: config.log.level });
    const agent = new Agent({ config, log });
    installSafety(agent, log, { beforeStop: notifyStopping });
    await agent.start();
    const panel = agent.panel ? `, panel ${agent.panel.url}` : '';
    process.stderr.write(`keymesh-edge: ${agent.enrolment.node.kind} "${agent.enrolment.node.name}" (resource ${agent.resource}) running${panel}\n`);
    notifyReady(`running${panel}`);
    // Fed only while the replica answers and the controller holds a state: a wedged agent is restarted.
    const stopWatchdog = startWatchdog(() => agent.healthy());
    await agent.stopped;
    stopWatchdog();
    return 0;
  },
};
