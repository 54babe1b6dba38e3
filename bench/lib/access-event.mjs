// The access-decision body the ledger benchmarks append (shared by bench/suites/ledger.mjs,
// bench/suites/sync.mjs and bench/lib/append-once.mjs; only node: imports, so append-once can
// time any checkout with it).
import { createHmac } from 'node:crypto';

export const NOW = 1_700_000_000_000;

/** The site card key of the test sites (@keymesh/testkit TEST_CARD_KEY). */
const CARD_KEY = Buffer.from('6b'.repeat(32), 'hex');
const refs = new Map();

/** The card reference of the test card `uid` (DESIGN §3: HMAC-SHA256(site card key, uid), 16 bytes): testkit's testCard(uid). */
export function card(uid) {
  let ref = refs.get(uid);
  if (ref === undefined) refs.set(uid, (ref = createHmac('sha256', CARD_KEY).update(uid, 'utf8').digest('hex').slice(0, 32)));
  return ref;
}

export const event = (i, member) => ({ resource: i % 7 ? 'door' : 'laser', credential: { kind: 'card', card: card(`c${i % 5000}`) }, allow: i % 3 !== 0, reason: 'ALLOWED', member, at: NOW + i * 1000 });
