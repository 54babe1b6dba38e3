/**
 * Signing one admin entry and handing it to the target (DESIGN §4-5): the head of the admin's
 * own feed as the target holds it, `deps` = the current heads of the policy key(s) the entry
 * changes, `nextEntry` (which checks the body against its schema before signing), submit.
 *
 * One attempt only. A refusal for a stale head (409 STALE_HEAD from a server, NOT_HEAD from the
 * file) means another device signed with this key, or the target moved under us: signing again
 * at once would put a second entry at a seq that may already exist somewhere, forking the key.
 * So the refusal is reported with the head that is held, and the operator decides.
 */
import { nextEntry, ProtocolError, type AnyEntry, type BodyOf, type EntryType, type KeyPair } from '@keymesh/protocol';
import { CoordinatorError } from '../errors.js';
import type { AdminTarget, SignedHead } from './target.js';

export interface Signed {
  type: EntryType;
  seq: number;
  hash: string;
  /** The policy keys whose heads the entry named. */
  keys: string[];
  deps: string[];
  where: string;
}

/** The head line as an entry (nextEntry verifies its signature and author). */
function headEntry(h: SignedHead | null): AnyEntry | null {
  if (!h) return null;
  try {
    return JSON.parse(h.line) as AnyEntry;
  } catch {
    throw new CoordinatorError('API_ERROR', `the head of ${h.author.slice(0, 12)}… that the coordinator sent is not an entry; nothing was signed. Check the server's version and log.`);
  }
}

function describeHead(h: SignedHead | null | undefined): string {
  return h ? `seq ${h.seq} (${h.hash.slice(0, 12)}…)` : 'no entry of this key';
}

/**
 * Signs `body` as the next entry of `key`'s feed and submits it. `policyKeys`: the registers it
 * changes (their heads become `deps`). Throws STALE_HEAD, NOT_ADMIN or REFUSED with what to do;
 * a SCHEMA error from the protocol passes through (the caller names the flag).
 */
export async function signAndSubmit<T extends EntryType>(
  target: AdminTarget, key: KeyPair, site: string, type: T, body: BodyOf<T>, policyKeys: string[], opts: { deps?: string[]; now?: number } = {},
): Promise<Signed> {
  const head = await target.head(key.publicKey);
  // `deps` given: heads the caller already read and others approved (admins.change); else read now.
  const deps: string[] = opts.deps ? [...opts.deps] : [];
  if (!opts.deps) for (const k of policyKeys) deps.push(...((await target.policy(k))?.heads ?? []));
  const now = opts.now;
  let made;
  try {
    made = nextEntry(headEntry(head), type, body, key, { deps, site, now });
  } catch (err) {
    if (err instanceof ProtocolError && err.code === 'NOT_NEXT_ENTRY') {
      throw new CoordinatorError('API_ERROR', `the head of this key at ${target.where} cannot be built on (${err.message}); nothing was signed.`);
    }
    throw err;
  }
  const r = await target.submit(made.wire);
  if (r.ok) return { type, seq: r.seq, hash: r.hash, keys: policyKeys, deps: made.entry.deps, where: target.where };
  const who = `${key.publicKey.slice(0, 12)}…`;
  if (r.code === 'NOT_HEAD' || r.code === 'STALE_HEAD') {
    throw new CoordinatorError('STALE_HEAD', `the entry signed as seq ${made.entry.seq} of admin key ${who} was refused: ${target.where} now holds ${describeHead(r.head)} for this key. Someone else signs with this key, or the coordinator moved; it was not signed again. One key belongs on one device (DESIGN §3): check that nobody else uses this key file, then run the command again if the change is still wanted.`, { head: r.head ?? null, refusedSeq: made.entry.seq });
  }
  if (r.code === 'NO_AUTHORITY' || r.code === 'NOT_ADMIN') {
    throw new CoordinatorError('NOT_ADMIN', `${who} is not a current admin of this site (${r.message}). Sign with an admin key file (--key FILE or $KEYMESH_ADMIN_KEY).`, { key: key.publicKey });
  }
  throw new CoordinatorError('REFUSED', `${type} seq ${made.entry.seq} was refused by ${target.where}: ${r.code}: ${r.message}`, { code: r.code });
}
