/**
 * `npm run demo` signs its admin into the page with a link: `#demo-key=<seed hex>`, a key the
 * demo made for this page and added to the admin set (signed with the demo's admin key file).
 * A fragment never reaches the server; the page takes it off the address bar at once (it stays
 * in the browser's history until then). Only for the demo:
 * - honoured only when the page is served from this machine (127.0.0.1, localhost, ::1: where
 *   the demo runs), never on a site reached over the network;
 * - the key is used only if it is an admin of this site now (checked in SignIn); it grants no
 *   more than its holder already has;
 * - kept in this tab's sessionStorage (a reload keeps the session), never in IndexedDB: it
 *   never replaces this browser's own key.
 */
import { fromHex, keyPairFromSeed, pureCrypto, type KeyPair } from '@keymesh/protocol';

const STORE = 'keymesh-demo-key';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Called once at start: moves a demo link's key out of the address bar. */
export function takeDemoKeyFromUrl(): void {
  const m = /^#demo-key=([0-9a-f]{64})$/.exec(location.hash);
  if (!location.hash.startsWith('#demo-key=')) return;
  history.replaceState(null, '', location.pathname + location.search);
  if (m && LOOPBACK.has(location.hostname)) sessionStorage.setItem(STORE, m[1]!);
}

/** The demo's key for this tab, if a demo link brought one. */
export function demoKey(): KeyPair | null {
  const seed = sessionStorage.getItem(STORE);
  return seed && /^[0-9a-f]{64}$/.test(seed) ? keyPairFromSeed(fromHex(seed), pureCrypto) : null;
}

export function forgetDemoKey(): void {
  sessionStorage.removeItem(STORE);
}
