// `keymesh-edge <command> …`: the edge agent's tool. Exit statuses and failure reports come
// from the ledger's CLI scaffold (0 ok, 1 failed, 2 usage); each command is a file in commands/.
import { parseArgs } from 'node:util';
import { runCli, UsageError } from '@keymesh/ledger/cli';
import type { EdgeCommand, EdgeFlagValues } from './command.js';
import { EDGE_COMMANDS } from './commands/index.js';

interface Args {
  help: boolean;
  json: boolean;
  cmd: EdgeCommand | null;
  flags: EdgeFlagValues;
  positionals: string[];
}

function parse(argv: readonly string[]): Args {
  const json = argv.includes('--json');
  const [word, ...rest] = argv;
  if (word === undefined || word === '--help' || word === '-h' || word === 'help') return { help: true, json, cmd: null, flags: {}, positionals: [] };
  const cmd = EDGE_COMMANDS.find((c) => c.name === word);
  // The word is not echoed: a mistyped `tap` would print the card number (DESIGN §3).
  if (!cmd) throw new UsageError('USAGE', `no such command; run \`keymesh-edge --help\` for the list (${EDGE_COMMANDS.map((c) => c.name).join(', ')}).`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' }, ...cmd.flags }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError('USAGE', `${(err as Error).message.replace(/\. To specify.*$/s, '')}. See \`keymesh-edge ${cmd.name} --help\`.`);
  }
  const flags = parsed.values as EdgeFlagValues;
  const help = flags.help === true;
  if (!help && (parsed.positionals.length < cmd.positionals.min || parsed.positionals.length > cmd.positionals.max)) {
    throw new UsageError('USAGE', `\`keymesh-edge ${cmd.name}\` takes ${cmd.usage || 'no arguments'}; got ${parsed.positionals.length}. See --help.`);
  }
  return { help, json: flags.json === true, cmd, flags, positionals: parsed.positionals };
}

function help(a: Args): string {
  if (!a.cmd) {
    const width = Math.max(...EDGE_COMMANDS.map((c) => c.name.length));
    return `keymesh-edge: the Keymesh agent on the Pi at a door or a machine.

Usage: keymesh-edge <command> [options]

Commands:
${EDGE_COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Every command takes --help and --json.
Start with \`keymesh-edge enrol FILE\` (the file \`keymesh node enrol\` wrote), then \`keymesh-edge run --config edge.yaml\`.`;
  }
  const c = a.cmd;
  return `keymesh-edge ${c.name}${c.usage ? ' ' + c.usage : ''} [options]

${c.summary}

${c.help}
  --json       machine-readable output (one JSON document)
  --help       this text`;
}

export function main(argv: readonly string[]): Promise<number> {
  return runCli<Args>({
    name: 'keymesh-edge',
    parse,
    help,
    run: (a, out) => a.cmd!.run({ flags: a.flags, positionals: a.positionals, json: a.json, out }),
  }, argv);
}
