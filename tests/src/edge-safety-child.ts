// Test fixture (not product code): runs the edge agent as `keymesh-edge run` does (Agent plus
// installSafety), and appends every sim output's value to a file as it changes, synchronously,
// so the file holds what the relay did up to the process's last instruction.
//   node edge-safety-child.js CONFIG OUT_FILE
// With EDGE_FIXTURE_THROW=1 it throws from a timer once the relay is energised (an uncaught
// error while the door is unlocked).
import { appendFileSync } from 'node:fs';
import { Agent } from '@keymesh/edge-agent/agent/agent';
import { installSafety } from '@keymesh/edge-agent/agent/safety';
import { loadConfig } from '@keymesh/edge-agent/config/load';
import { SimOutput } from '@keymesh/edge-agent/drivers/sim/index';
import { createLogger } from '@keymesh/edge-agent/log';

const [configPath, out] = process.argv.slice(2);
if (!configPath || !out) throw new Error('usage: edge-safety-child.js CONFIG OUT_FILE');
const config = loadConfig(configPath);
// Synchronous log lines: the fatal one must be on stdout before the process exits.
const log = createLogger({ level: 'info', destination: process.stdout });
const throwWhenUnlocked = process.env.EDGE_FIXTURE_THROW === '1';

const agent = new Agent({
  config, log,
  trace: (step) => {
    if (step !== 'devices-open') return;
    for (const [role, d] of Object.entries(agent.devices ?? {})) {
      if (!(d instanceof SimOutput)) continue;
      appendFileSync(out, `${role} ${d.value}\n`);
      d.onChange((on) => {
        appendFileSync(out, `${role} ${on}\n`);
        if (throwWhenUnlocked && role === 'relay' && on) {
          setTimeout(() => {
            throw new Error('fixture: thrown from a timer while the door is unlocked');
          }, 20);
        }
      });
    }
  },
});
installSafety(agent, log);
await agent.start();
appendFileSync(out, 'started\n');
await agent.stopped;
