/**
 * Signing an entry in the page and handing it to the coordinator's compare-and-set relay
 * (DESIGN §3). Under a Web Lock per key, so two tabs of this browser never sign at once:
 * 1. read the heads of the policy keys it changes (its `deps`);
 * 2. learn this key's head from the coordinator's signed head (nextEntry verifies it);
 * 3. refuse if that head is older than what this page last signed with the key (a coordinator
 *    restored from an old copy: signing after it would fork the feed);
 * 4. sign the next entry and POST it. A 409 means someone else extended the feed first: the
 *    page shows the head it was given and signs nothing again by itself.
 */
import { nextEntry, parseEntryText, pureCrypto, type BodyOf, type EntryType, type KeyPair } from '@keymesh/protocol';
import { ApiError, api, post } from './api.js';

export type SignResult = { ok: true; seq: number; hash: string } | { ok: false; code: string; message: string };

const lastKey = (author: string) => `keymesh-last-signed/${author}`;

function lastSigned(author: string): { seq: number; hash: string } | null {
  try {
    const v = JSON.parse(localStorage.getItem(lastKey(author)) ?? 'null') as { seq?: unknown; hash?: unknown } | null;
    return v && typeof v.seq === 'number' && typeof v.hash === 'string' ? { seq: v.seq, hash: v.hash } : null;
  } catch {
    return null;
  }
}

/** One signer at a time in this tab too (Web Locks are missing outside secure contexts). */
let local: Promise<unknown> = Promise.resolve();
function underLock<T>(name: string, run: () => Promise<T>): Promise<T> {
  if (typeof navigator !== 'undefined' && navigator.locks) return navigator.locks.request(name, run) as Promise<T>;
  const next = local.then(run, run);
  local = next.catch(() => undefined);
  return next;
}

export async function signAndSubmit<T extends EntryType>(key: KeyPair, site: string, type: T, body: BodyOf<T>, policyKeys: string[]): Promise<SignResult> {
  return underLock(`keymesh-sign/${key.publicKey}`, async (): Promise<SignResult> => {
    try {
      const deps: string[] = [];
      for (const k of policyKeys) deps.push(...((await api.policy(k))?.heads ?? []));
      const head = await api.head(key.publicKey);
      const headEntry = head ? parseEntryText(head.line).entry : null;
      const mine = lastSigned(key.publicKey);
      if (mine && (headEntry?.seq ?? 0) < mine.seq) {
        return { ok: false, code: 'HEAD_BEHIND', message: `the coordinator holds this key's feed up to seq ${headEntry?.seq ?? 0}, but this page already signed seq ${mine.seq}; nothing was signed (wait until it has caught up)` };
      }
      const made = nextEntry(headEntry, type, body, key, { site, deps, crypto: pureCrypto });
      const r = await post<{ seq: number; hash: string }>('/api/entries', { entry: made.wire });
      localStorage.setItem(lastKey(key.publicKey), JSON.stringify({ seq: r.seq, hash: r.hash }));
      return { ok: true, seq: r.seq, hash: r.hash };
    } catch (e) {
      if (e instanceof ApiError && e.code === 'STALE_HEAD') {
        const h = e.extra.head as { seq?: number } | null | undefined;
        return { ok: false, code: e.code, message: `someone else signed with this key first (the coordinator's head is seq ${h?.seq ?? '?'}); nothing was signed twice: check the change and try again` };
      }
      if (e instanceof ApiError) return { ok: false, code: e.code, message: e.message };
      return { ok: false, code: 'ERROR', message: (e as Error).message };
    }
  });
}
