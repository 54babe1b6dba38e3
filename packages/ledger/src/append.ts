/**
 * Appends of this node's own entries: signed here, after the own-feed guard (own-feed.ts), in
 * one transaction with the state they change.
 */
import { BODY_SCHEMAS, describeZodError, policyKeyOf, signEntry, type AnyEntry, type EntryType, type KeyPair } from '@keymesh/protocol';
import { LedgerError } from './errors.js';
import { INDEX_BATCH, setHead, writable, write, type LedgerCore } from './core.js';
import { materialise } from './materialise.js';
import { indexEvents } from './access-log.js';
import { releaseHeld } from './held-drain.js';
import { assertOwnFeedWritable } from './own-feed.js';
import { storeEntry } from './store.js';

export function appendMany(l: LedgerCore, key: KeyPair, items: ReadonlyArray<{ type: EntryType; body: unknown; deps?: readonly string[] }>): Array<{ entry: AnyEntry; hash: string; hashBytes: Uint8Array }> {
  writable(l);
  if (items.length === 0) return [];
  const author = key.publicKey;
  assertOwnFeedWritable(l, author);
  return write(l, () => {
    const head = l.feeds.get(author);
    let seq = head?.seq ?? 0;
    let prev = head && head.seq > 0 ? head.hash : null;
    const out: Array<{ entry: AnyEntry; hash: string; hashBytes: Uint8Array }> = [];
    const touched = new Set<string>();
    for (const item of items) {
      // The envelope is built here and is valid by construction; the body is the caller's.
      const schema = BODY_SCHEMAS[item.type];
      const checked = schema?.safeParse(item.body);
      if (!checked?.success) {
        const issues = checked ? checked.error.issues.map((i) => ({ ...i, path: ['body', ...i.path] })) : [];
        throw new LedgerError('BAD_ENTRY', `${item.type}: ${checked ? describeZodError({ issues }) : 'unknown entry type'}. Nothing was written.`, { type: item.type, paths: issues.map((i) => i.path.join('.')) });
      }
      const probe = { type: item.type, body: item.body } as AnyEntry;
      const pkey = policyKeyOf(probe);
      const { entry, hash, hashBytes, wire } = signEntry(key, {
        site: l.site, seq: seq + 1, prev, hlc: l.clock.now(), type: item.type,
        // Its key's heads, and what the caller names besides (a panel's cert.grant names the trainer record it was judged against).
        deps: [...new Set([...(pkey ? l.state.headHashes(pkey) : []), ...(item.deps ?? [])])].sort(), body: item.body as never,
      }, l.crypto);
      storeEntry(l, { entry: entry as AnyEntry, json: wire, hash: hashBytes }, touched, hash);
      seq += 1;
      prev = hash;
      out.push({ entry: entry as AnyEntry, hash, hashBytes });
    }
    setHead(l, author, seq, out[out.length - 1]!.hashBytes);
    // An append that grants authority (an enrolment, a member's key) releases what that key's entries waited for.
    materialise(l, touched, releaseHeld(l, touched));
    if (l.unindexed.length >= INDEX_BATCH) indexEvents(l);
    return out;
  });
}
