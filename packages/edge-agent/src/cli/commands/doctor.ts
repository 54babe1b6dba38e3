import { checkSetup, type Check } from '../../doctor.js';
import { loadConfig } from '../../config/load.js';
import { flag, type EdgeCommand } from '../command.js';

export const doctorCommand: EdgeCommand = {
  name: 'doctor',
  summary: 'check the enrolment, each configured device, the broker, the clock and the rules\' age',
  usage: '--config FILE',
  help: `Runs each check and prints what is wrong and how to fix it; exits 1 when a check fails.
Devices are opened (outputs at their safe level) only when no agent runs on the data folder:
a running agent owns them, and its panel shows their state.

  --config FILE     the agent's config
  --timeout MS      how long to wait for the broker (default 5000)

Example: keymesh-edge doctor --config /etc/keymesh-edge/edge.yaml`,
  flags: { config: { type: 'string' }, timeout: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  async run(r) {
    const path = flag(r, 'config');
    if (!path) {
      process.stderr.write('keymesh-edge: --config FILE is required.\n');
      return 2;
    }
    const timeout = Number(flag(r, 'timeout') ?? 5000);
    const checks: Check[] = await checkSetup(loadConfig(path), { brokerTimeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : 5000 });
    const failed = checks.filter((c) => c.status === 'fail').length;
    if (r.json) await r.out.write(JSON.stringify({ ok: failed === 0, checks }) + '\n');
    else {
      for (const c of checks) await r.out.write(`${c.status === 'ok' ? 'ok  ' : c.status === 'warn' ? 'warn' : 'FAIL'}  ${c.name}: ${c.detail}${c.fix ? `\n      fix: ${c.fix}` : ''}\n`);
      await r.out.write(failed ? `${failed} check(s) failed.\n` : 'Everything checked is in order.\n');
    }
    return failed ? 1 : 0;
  },
};
