/**
 * Child process of crash.test.ts: `node crash-child.js DB SITE SEED [DURABILITY]` (its path: `crashChildPath`). Opens
 * the ledger with DURABILITY (default: the ledger's default, 'group'), writes "ready" on
 * stdout, then appends forever
 * with the founder's key (testKey(1)): single appends and appendMany batches of 2–6 entries,
 * policy entries and access events mixed. After each append returns, it writes "seq hash" per
 * entry on stdout: those entries were acknowledged and must survive a SIGKILL at any moment.
 */
import { writeSync } from 'node:fs';
import type { EntryType } from '@keymesh/protocol';
import { memberBody, resourceBody, testKey, testCard } from './site.js';
import { Ledger, type Durability } from '@keymesh/ledger';

const [path, site, seedArg, durability] = process.argv.slice(2);

let s = Number(seedArg ?? 1) >>> 0;
const rand = (n: number) => {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  return (s >>> 8) % n;
};

function item(i: number): { type: EntryType; body: unknown } {
  const m = `m${rand(40)}`;
  switch (rand(6)) {
    case 0: return { type: 'member.put', body: memberBody(m, { status: rand(4) ? 'active' : 'suspended', contact: `round ${seedArg} item ${i}` }) };
    case 1: return { type: 'card.bind', body: { card: testCard(`c${rand(30)}`), member: m } };
    case 2: return { type: 'cert.grant', body: { member: m, cert: rand(2) ? 'laser' : 'cnc', grantedBy: null, note: '' } };
    case 3: return { type: 'resource.put', body: resourceBody(rand(2) ? 'door' : 'laser', { unlockSeconds: 1 + rand(9) }) };
    default: return {
      type: 'access.decision',
      body: { resource: rand(2) ? 'door' : 'laser', credential: { kind: 'card', card: testCard(`c${rand(30)}`) }, allow: rand(2) === 0, reason: 'ALLOWED', member: m, at: 1_700_000_000_000 + i },
    };
  }
}

function run(path: string, site: string): void {
  const key = testKey(1);
  const ledger = Ledger.open(path, { site, ...(durability ? { durability: durability as Durability } : {}) });
  // fd 1 is a pipe: writeSync returns once the parent can read the line.
  const say = (line: string) => writeSync(1, line + '\n');
  say('ready');
  for (let i = 0; ; i++) {
    if (rand(2)) {
      const { type, body } = item(i);
      const { entry, hash } = ledger.append(key, type, body as never);
      say(`${entry.seq} ${hash}`);
    } else {
      const out = ledger.appendMany(key, Array.from({ length: 2 + rand(5) }, (_, k) => item(i * 10 + k)));
      say(out.map((o) => `${o.entry.seq} ${o.hash}`).join('\n'));
    }
  }
}

if (!path || !site) {
  process.stderr.write('usage: node crash-child.js DB SITE [SEED] [group|each|process]\n');
  process.exitCode = 2;
} else {
  run(path, site);
}
