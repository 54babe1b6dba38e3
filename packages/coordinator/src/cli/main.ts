// `keymesh <command> …`: the operator's tool. Exit statuses and failure reports come from the
// ledger's CLI scaffold (0 ok, 1 failed, 2 usage); each command is a file in commands/.
import { runCli, throttled, UsageError } from '@keymesh/ledger/cli';
import { COMMON_HELP, parseCommand, type Command, type FlagValues } from './command.js';
import { COMMANDS } from './commands/index.js';
import { DEFAULT_DATA_DIR } from '../data-dir.js';

interface Args {
  help: boolean;
  json: boolean;
  cmd: Command | null;
  /** Words typed that name no command yet (`keymesh member` alone). */
  prefix: string[];
  flags: FlagValues;
  positionals: string[];
}

function find(argv: readonly string[]): { cmd: Command | null; rest: string[]; prefix: string[] } {
  let best: Command | null = null;
  for (const c of COMMANDS) {
    if (c.words.every((w, i) => argv[i] === w) && (!best || c.words.length > best.words.length)) best = c;
  }
  if (best) return { cmd: best, rest: argv.slice(best.words.length), prefix: [] };
  const prefix: string[] = [];
  for (const a of argv) {
    if (a.startsWith('-')) break;
    if (!COMMANDS.some((c) => [...prefix, a].every((w, i) => c.words[i] === w))) break;
    prefix.push(a);
  }
  return { cmd: null, rest: argv.slice(prefix.length), prefix };
}

function parse(argv: readonly string[]): Args {
  const { cmd, rest, prefix } = find(argv);
  const json = argv.includes('--json');
  if (!cmd) {
    // `keymesh member` alone lists the member commands.
    const help = rest.includes('--help') || rest.includes('-h') || argv.length === 0 || (prefix.length > 0 && !rest.some((a) => !a.startsWith('-')));
    if (!help) {
      // The words typed are not echoed: a mistyped `card bind` would print the card number (DESIGN §3).
      const known = ['keymesh', ...prefix].join(' ');
      throw new UsageError('USAGE', `no command of \`${known}\` matches the words that follow (not repeated here: they may hold a card number). Run \`${known} --help\` for the list.`);
    }
    return { help: true, json, cmd: null, prefix, flags: {}, positionals: [] };
  }
  const { flags, positionals } = parseCommand(cmd, rest);
  return { help: flags.help === true, json: flags.json === true, cmd, prefix, flags, positionals };
}

function list(prefix: string[]): string {
  const cmds = COMMANDS.filter((c) => prefix.every((w, i) => c.words[i] === w));
  const width = Math.max(...cmds.map((c) => c.words.join(' ').length));
  return cmds.map((c) => `  ${c.words.join(' ').padEnd(width)}  ${c.summary}`).join('\n');
}

function help(a: Args): string {
  if (!a.cmd) {
    return `keymesh: set up and serve a Keymesh site (the coordinator).

Usage: keymesh ${a.prefix.length ? a.prefix.join(' ') + ' ' : ''}<command> [options]

Commands:
${list(a.prefix)}

Every command takes --data DIR (default ./${DEFAULT_DATA_DIR}), --json and --help.
Start with \`keymesh init --site "Name"\`, then \`keymesh serve\`.`;
  }
  const c = a.cmd;
  return `keymesh ${c.words.join(' ')}${c.usage ? ' ' + c.usage : ''} [options]

${c.summary}

${c.help}
${COMMON_HELP}`;
}

export function main(argv: readonly string[]): Promise<number> {
  return runCli<Args>({
    name: 'keymesh',
    parse,
    help,
    run: (a, out) => {
      const progress = throttled('keymesh', 1000);
      const data = typeof a.flags.data === 'string' ? a.flags.data : process.env.KEYMESH_DATA ?? DEFAULT_DATA_DIR;
      return a.cmd!.run({ flags: a.flags, positionals: a.positionals, data, json: a.json, out, progress: (l) => progress(() => l) });
    },
  }, argv);
}
