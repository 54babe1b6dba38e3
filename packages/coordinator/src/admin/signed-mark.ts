/**
 * What this device last signed with an admin key (DESIGN §3: one key per device), kept beside
 * the key file as `<key file>.head`: `{site, author, seq, hash}`. An admin command signs after
 * the head its target answers; a target that is behind (a coordinator rebuilding after its disk
 * was lost, an old copy, a wrong --server) would have the key sign a seq it already signed, a
 * fork that retires the key. So a head below the mark is refused before anything is signed.
 *
 * Best effort on the writing side: a key on read-only media keeps no mark, and the command
 * that signed has succeeded either way (its entry is taken).
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { HashHex, PublicKeyHex } from '@keymesh/protocol';
import { CoordinatorError } from '../errors.js';
import { writeFileAtomic } from '../files.js';
import type { AdminTarget } from './target.js';

const Mark = z.strictObject({ keymesh: z.literal('signed-head'), v: z.literal(1), site: HashHex, author: PublicKeyHex, seq: z.number().int().positive(), hash: HashHex });
type Mark = z.infer<typeof Mark>;

export function markPath(keyFile: string): string {
  return `${keyFile}.head`;
}

/** The mark of `author` on `site`, or null (none, another site's, or unreadable: then nothing is known). */
export function readMark(keyFile: string, site: string, author: string): Mark | null {
  const path = markPath(keyFile);
  if (!existsSync(path)) return null;
  try {
    const r = Mark.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return r.success && r.data.site === site && r.data.author === author ? r.data : null;
  } catch {
    return null;
  }
}

export function writeMark(keyFile: string, m: Omit<Mark, 'keymesh' | 'v'>): void {
  try {
    const had = readMark(keyFile, m.site, m.author);
    if (had && had.seq > m.seq) return;
    writeFileAtomic(markPath(keyFile), JSON.stringify({ keymesh: 'signed-head', v: 1, ...m }) + '\n', { mode: 0o600, overwrite: true });
  } catch {
    // read-only media: no mark (see above)
  }
}

/** `target`, with the head of `author` checked against the mark and each accepted entry of it marked. */
export function markedTarget(target: AdminTarget, keyFile: string, site: string, author: string): AdminTarget {
  return {
    ...target,
    kind: target.kind,
    where: target.where,
    async head(a) {
      const h = await target.head(a);
      if (a !== author) return h;
      const m = readMark(keyFile, site, author);
      if (m && (!h || h.seq < m.seq || (h.seq === m.seq && h.hash !== m.hash))) {
        const held = h ? `seq ${h.seq}` : 'no entry';
        throw new CoordinatorError('STALE_HEAD', `${target.where} holds ${held} of admin key ${author.slice(0, 12)}…, but this device signed seq ${m.seq} with it (${markPath(keyFile)}); signing now would sign that seq again and fork the key. Nothing was signed. If the coordinator is rebuilding (its disk was lost), wait until it has synced from the nodes (keymesh status) and run the command again.`, { held: h?.seq ?? 0, signed: m.seq });
      }
      return h;
    },
    async submit(line) {
      const r = await target.submit(line);
      if (r.ok) {
        const e = JSON.parse(line) as { author?: string };
        if (e.author === author) writeMark(keyFile, { site, author, seq: r.seq, hash: r.hash });
      }
      return r;
    },
    close: () => target.close(),
    ...(target.command ? { command: (c: Parameters<NonNullable<AdminTarget['command']>>[0]) => target.command!(c) } : {}),
  };
}
