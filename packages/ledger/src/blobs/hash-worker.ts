/**
 * The hashing thread of put() (see slab.ts): per put, the SHA-256 of the whole blob, slab after
 * slab in order, and a share of the chunk hashes.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { claimAndHash, SlabViews, type HashReply, type HashRequest } from './slab.js';

const port = parentPort;
if (port === null) throw new Error('hash-worker.js runs as a worker thread of a BlobStore, not on its own.');
const wholes = new Map<number, Hash>();
const reply = (m: HashReply) => port.postMessage(m);

port.on('message', (m: HashRequest) => {
  if (m.op === 'slab') {
    let whole = wholes.get(m.id);
    if (whole === undefined) wholes.set(m.id, (whole = createHash('sha256')));
    const s = new SlabViews(m.mem);
    whole.update(s.data.subarray(0, m.filled));
    claimAndHash(s);
    reply({ op: 'slabDone', id: m.id, seq: m.seq });
  } else if (m.op === 'end') {
    const whole = wholes.get(m.id) ?? createHash('sha256');
    wholes.delete(m.id);
    reply({ op: 'whole', id: m.id, hex: whole.digest('hex') });
  } else {
    wholes.delete(m.id);
  }
});
