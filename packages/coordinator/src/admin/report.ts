/** How an admin command says what it signed: one sentence, or one JSON document with --json. */
import type { CommandRun } from '../cli/command.js';
import type { Signed } from './writer.js';

export async function reportSigned(r: CommandRun, s: Signed, sentence: string, extra: Record<string, unknown> = {}): Promise<number> {
  if (r.json) {
    await r.out.write(JSON.stringify({ ok: true, type: s.type, seq: s.seq, hash: s.hash, keys: s.keys, deps: s.deps, via: s.where, ...extra }) + '\n');
  } else {
    await r.out.write(`${sentence}\n  signed ${s.type} seq ${s.seq} (${s.hash.slice(0, 16)}…), submitted to ${s.where}\n`);
  }
  return 0;
}
