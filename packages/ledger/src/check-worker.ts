/** Worker side of IngestPool: runs checkLine on batches of lines and returns hashes or reasons. */
import { parentPort } from 'node:worker_threads';
import { defaultCrypto } from '@keymesh/protocol';
import { checkLine } from './check-line.js';
import type { CheckReply, CheckRequest } from './check-messages.js';

parentPort!.on('message', ({ id, lines }: CheckRequest) => {
  const hashes = new Uint8Array(lines.length * 32);
  const errors: CheckReply['errors'] = [];
  const unknown: number[] = [];
  lines.forEach((line, i) => {
    const c = checkLine(line, defaultCrypto);
    if (c.ok) {
      hashes.set(c.hash, i * 32);
      if (!c.known) unknown.push(i);
    } else errors.push({ i, code: c.code, reason: c.reason, author: c.author, seq: c.seq });
  });
  const reply: CheckReply = { id, hashes, errors, unknown };
  parentPort!.postMessage(reply, [hashes.buffer]);
});
