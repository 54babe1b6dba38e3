/**
 * The site card key in this browser, so a number printed on a fob becomes its card reference
 * in the page (DESIGN §3: the reference is HMAC(card key, uid); the key is never published).
 * The operator imports `card.key` from the coordinator's data folder once (`keymesh init` wrote
 * it: `{"keymesh":"card-key","v":1,"key":<64 hex>}`); it is kept in this browser profile's
 * IndexedDB beside the page's own key, and never sent anywhere: only references leave the page.
 */
import { cardRef, normaliseCardUid, type CardUidForm } from '@keymesh/protocol';
import { openDb, tx } from './keys.js';

const CARD_KEY = 'card-key';

/** The key from a card.key file's text; the error names what is wrong. */
export function parseCardKeyFile(text: string): string {
  if (text.length > 1024) throw new Error('this is not a Keymesh card key file (too large)');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error('this is not a Keymesh card key file (not JSON); choose card.key from the coordinator\'s data folder');
  }
  const f = v as { keymesh?: unknown; v?: unknown; key?: unknown } | null;
  if (!f || f.keymesh !== 'card-key' || f.v !== 1) throw new Error('this is not a Keymesh card key file; choose card.key from the coordinator\'s data folder (an admin key file will not do)');
  if (typeof f.key !== 'string' || !/^[0-9a-f]{64}$/.test(f.key)) throw new Error('the card key file holds no valid key (64 lowercase hex digits)');
  return f.key;
}

export async function storedCardKey(): Promise<string | null> {
  const db = await openDb();
  try {
    const k = await tx<unknown>(db, 'readonly', (s) => s.get(CARD_KEY));
    return typeof k === 'string' && /^[0-9a-f]{64}$/.test(k) ? k : null;
  } finally {
    db.close();
  }
}

export async function storeCardKey(key: string): Promise<void> {
  const db = await openDb();
  try {
    await tx(db, 'readwrite', (s) => s.put(key, CARD_KEY));
  } finally {
    db.close();
  }
}

/** The reference of the card whose printed number is `text` (throws BAD_CARD_UID in words). */
export function refOfPrinted(cardKey: string, text: string, form: CardUidForm): string {
  return cardRef(cardKey, normaliseCardUid(text, form));
}
