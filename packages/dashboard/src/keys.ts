/**
 * Keys in the browser (DESIGN §3: one key per signing device).
 *
 * - The page's own key: made here with tweetnacl (the protocol's pure provider), its seed kept
 *   in this browser profile's IndexedDB, shown so an admin can add it to the admin set.
 * - The operator's daily admin key file (`keymesh init` writes it), imported for this tab only:
 *   kept in memory, never stored, shown as the operator's key while the page signs with it,
 *   and used to sign the `admins.change` adding the page's own key (admins.ts); then dropped.
 */
import { decodeKeyFile, fromHex, generateKeyPair, keyPairFromSeed, pureCrypto, toHex, type KeyPair } from '@keymesh/protocol';

const DB = 'keymesh-dashboard';
const STORE = 'keys';
const PAGE_KEY = 'page-key';

export function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB would not open'));
  });
}

export function tx<T>(db: IDBDatabase, mode: IDBTransactionMode, run: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = run(db.transaction(STORE, mode).objectStore(STORE));
    req.onsuccess = () => resolve(req.result as T);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/** This browser's own key, made on first use and kept in IndexedDB. */
export async function pageKey(): Promise<KeyPair> {
  const db = await openDb();
  try {
    const seed = await tx<string | undefined>(db, 'readonly', (s) => s.get(PAGE_KEY));
    if (typeof seed === 'string' && /^[0-9a-f]{64}$/.test(seed)) return keyPairFromSeed(fromHex(seed), pureCrypto);
    const made = generateKeyPair(pureCrypto);
    await tx(db, 'readwrite', (s) => s.put(toHex(made.seed), PAGE_KEY));
    return made;
  } finally {
    db.close();
  }
}

/** The operator's key file, checked (decodeKeyFile names what is wrong with a bad one). */
export function importKeyFile(text: string): { key: KeyPair; label: string } {
  if (text.length > 4096) throw new Error('this is not a Keymesh key file (too large)');
  const { keyPair, file } = decodeKeyFile(text, pureCrypto);
  return { key: keyPair, label: file.label };
}
