// The demo's command line: `npm run demo -- [flags]` or `node scripts/demo.mjs [flags]`.
import { parseArgs } from 'node:util';

export const HELP = `npm run demo -- [flags]     (or: node scripts/demo.mjs [flags])

Sets up a demo makerspace (a coordinator, three sim edge agents: front door, laser cutter,
CNC router; an admin, six members with badges, certifications, one trainer) in ./demo-data,
starts everything on this machine, prints the dashboard URL (it signs the demo admin in),
the panel URLs and the badges, and takes taps at its prompt. Ctrl-C or \`quit\` stops the agents (outputs safe) then the coordinator.

  --reset        delete the demo folder and set the site up afresh (default: reuse it)
  --data DIR     the demo folder (default ./demo-data)
  --any-port     take any free ports (default: 8480 for the coordinator's HTTP, 18830 for
                 MQTT, 8481-8483 for the panels, each when free)
  --no-prompt    do not read the terminal; run until SIGINT/SIGTERM (CI, tests)
  --once         set up, start, tap one badge at each node, check the panels show the taps,
                 stop everything; exit 0 when all went as expected, else 1
  --help         this text

At the prompt: tap WHO WHERE (tap ada laser, tap 0a0b0c0d door, tap unknown door),
status, badges, help, quit.`;

export function parseFlags(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      reset: { type: 'boolean', default: false },
      data: { type: 'string' },
      'no-prompt': { type: 'boolean', default: false },
      once: { type: 'boolean', default: false },
      'any-port': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
    strict: true,
  });
  return { reset: values.reset, data: values.data, prompt: !values['no-prompt'] && !values.once, once: values.once, anyPort: values['any-port'], help: values.help };
}
