/**
 * The next entry of one's own feed, as a browser (the dashboard) or any writer without a store
 * makes it: the body is checked against its type's schema BEFORE anything is signed, so a key
 * never signs an entry peers would refuse (a signed bad entry at seq n would block the feed:
 * the next one must name it as prev).
 *
 * The head must be this key's newest entry as the writer itself holds it (its own store, or
 * the relay's 409 answer, which carries the head it holds). A head is checked (schema and
 * signature), so a hostile relay cannot make the key sign after an entry it never wrote; a
 * genuine but stale head cannot be told from the newest here and forks the feed: never take
 * it from anyone who cannot prove it is the newest.
 */
import { canonicalString } from './canonical.js';
import { defaultCrypto, type CryptoProvider } from './crypto/index.js';
import { describeZodError, signEntry, verifyEntry } from './entry.js';
import { ProtocolError } from './errors.js';
import { MAX_HLC_LOGICAL, type Hlc } from './hlc.js';
import type { KeyPair } from './keys.js';
import { BODY_SCHEMAS, type BodyOf, type EntryType } from './schemas/bodies.js';
import { Entry, MAX_ENTRY_BYTES, PROTOCOL_VERSION, type AnyEntry } from './schemas/entry.js';
import { utf8 } from './bytes.js';

export interface NextEntryOptions {
  /** The site id; required for a feed's first entry (it is the head's otherwise). */
  site?: string;
  /** Heads of the policy key(s) the entry changes (the writer's state knows them). */
  deps?: string[];
  /** Wall clock (ms); default Date.now(). The stamp never goes below the head's. */
  now?: number;
  crypto?: CryptoProvider;
}

/** The stamp after `prev` at wall time `now`: the HLC rule for a local event. */
function nextHlc(prev: Hlc | null, now: number): Hlc {
  if (!prev || now > prev.wall) return { wall: now, logical: 0 };
  return prev.logical >= MAX_HLC_LOGICAL ? { wall: prev.wall + 1, logical: 0 } : { wall: prev.wall, logical: prev.logical + 1 };
}

/**
 * Signs the entry that follows `head` (this key's newest signed entry; null for the first; a
 * site's genesis is the first entry with no site). Throws SCHEMA naming the bad field of
 * `body`, NOT_NEXT_ENTRY if `head` does not verify, is another key's, or the site is missing,
 * TOO_LARGE if the result would not fit an entry.
 */
export function nextEntry<T extends EntryType>(head: AnyEntry | null, type: T, body: BodyOf<T>, key: KeyPair, opts: NextEntryOptions = {}): { entry: Entry<T>; hash: string; wire: string } {
  const crypto = opts.crypto ?? defaultCrypto;
  const schema = (BODY_SCHEMAS as Record<string, { safeParse(v: unknown): { success: boolean; error?: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> } } }>)[type];
  if (!schema) throw new ProtocolError('SCHEMA', `type ${String(type)} is not one this release writes`);
  const checked = schema.safeParse(body);
  if (!checked.success) throw new ProtocolError('SCHEMA', `${type} body: ${describeZodError(checked.error!)}`);
  let headHash: string | null = null;
  if (head) {
    const v = verifyEntry(head, crypto);
    if (!v.ok) throw new ProtocolError('NOT_NEXT_ENTRY', `the head given does not verify (${v.code}: ${v.reason}); pass this key's newest entry as its own store holds it`);
    if (head.author !== key.publicKey) {
      throw new ProtocolError('NOT_NEXT_ENTRY', `the head given is ${head.author.slice(0, 12)}…'s, not this key's; pass this key's newest entry (or null for its first)`);
    }
    headHash = v.hash;
  }
  const genesis = !head && type === 'site.genesis';
  const site = head ? head.site || headHash! : genesis ? '' : opts.site;
  if (genesis && opts.site) throw new ProtocolError('NOT_NEXT_ENTRY', 'a site\'s genesis has no site id (its hash becomes the site id): leave opts.site out');
  if (site === undefined || (site === '' && !genesis)) throw new ProtocolError('NOT_NEXT_ENTRY', 'a feed\'s first entry needs opts.site (the site id)');
  if (head && opts.site !== undefined && opts.site !== site) throw new ProtocolError('NOT_NEXT_ENTRY', 'opts.site differs from the head\'s site');
  const fields = {
    site, seq: head ? head.seq + 1 : 1, prev: headHash,
    hlc: nextHlc(head?.hlc ?? null, opts.now ?? Date.now()), type, deps: [...new Set(opts.deps ?? [])].sort(), body,
  };
  // The whole entry is checked with a placeholder signature first: nothing invalid is signed.
  const probe = { v: PROTOCOL_VERSION, author: key.publicKey, ...fields, sig: '0'.repeat(128) };
  const envelope = Entry.safeParse(probe);
  if (!envelope.success) throw new ProtocolError('SCHEMA', describeZodError(envelope.error));
  const size = utf8(canonicalString(probe)).length;
  if (size > MAX_ENTRY_BYTES) throw new ProtocolError('TOO_LARGE', `the entry would be ${size} bytes; the limit is ${MAX_ENTRY_BYTES}`);
  const made = signEntry(key, fields, crypto);
  return { entry: made.entry, hash: made.hash, wire: made.wire };
}
