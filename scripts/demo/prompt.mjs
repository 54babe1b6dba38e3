// The demo's prompt: `tap WHO WHERE`, `status`, `badges`, `help`, `quit`. Resolves with why it
// ended (quit, Ctrl-C, end of input), and leaves the stopping to the caller.
import { createInterface } from 'node:readline';
import { NODES } from './cast.mjs';
import { printBadges } from './intro.mjs';
import { describeStatus, findBadge, findNode, panelStatus, tapAndDescribe } from './taps.mjs';

const HELP = `  tap WHO WHERE   tap a badge: WHO is a member (ada, grace, margaret, sam, alan, hedy),
                  "unknown", or a card number in hex (0a0b0c0d); WHERE is door, laser or cnc
                  e.g. tap ada laser   (tap again to end the session)
  status          each node's state, last decision and whether it is online
  badges          the demo badges and what each may do
  help            this text
  quit            stop the agents (outputs safe), then the coordinator, and exit`;

async function status(agents) {
  for (const a of agents) {
    try {
      const s = await panelStatus(a.panel);
      const last = s.lastDecision ? `last: ${s.lastDecision.allow ? 'allowed' : 'denied'} ${s.lastDecision.member ?? 'unknown card'}: ${s.lastDecision.message}` : 'no tap yet';
      console.log(`  ${describeStatus(s)}; ${last}`);
    } catch (err) {
      console.log(`  ${a.node.name}: the panel at ${a.panel} did not answer (${err.message})`);
    }
  }
}

async function handle(line, agents) {
  const words = line.trim().split(/\s+/).filter(Boolean);
  const cmd = (words[0] ?? '').toLowerCase();
  if (!cmd) return;
  if (cmd === 'help' || cmd === '?') return console.log(HELP);
  if (cmd === 'badges') return printBadges();
  if (cmd === 'status') return status(agents);
  if (cmd === 'tap') {
    const badge = findBadge(words[1]);
    const node = findNode(words[2]);
    if (!badge || !node || words.length > 3) {
      return console.log(`  usage: tap WHO WHERE, e.g. tap ada laser. WHO: a member id, "unknown" or a hex card number; WHERE: ${NODES.map((n) => n.id).join(', ')}. Type help for more.`);
    }
    const agent = agents.find((a) => a.node.id === node.id);
    try {
      console.log(`  ${(await tapAndDescribe(agent.panel, badge, node)).text}`);
    } catch (err) {
      console.log(`  the ${node.name}'s panel refused the tap: ${err.message}`);
    }
    return;
  }
  console.log(`  "${cmd.slice(0, 20)}" is not a command here; type help.`);
}

/** Reads commands until quit, Ctrl-C or end of input; `stopped()` says the demo is already stopping. */
export function runPrompt(agents, stopped) {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: 'keymesh-demo> ' });
    let done = false;
    const finish = (why) => {
      if (done) return;
      done = true;
      rl.close();
      resolve(why);
    };
    // Lines are handled one at a time, in order, even when pasted together.
    let queue = Promise.resolve();
    rl.on('line', (line) => {
      queue = queue.then(async () => {
        if (done || stopped()) return;
        const cmd = line.trim().toLowerCase();
        if (cmd === 'quit' || cmd === 'exit') return finish('quit: stopping everything');
        await handle(line, agents);
        if (!done && !stopped()) rl.prompt();
      });
    });
    // In a terminal, readline takes Ctrl-C itself (raw mode): it arrives here, not as a signal.
    rl.on('SIGINT', () => {
      console.log('^C');
      finish('Ctrl-C: stopping everything');
    });
    rl.on('close', () => queue.then(() => finish('end of input: stopping everything')));
    rl.prompt();
  });
}
