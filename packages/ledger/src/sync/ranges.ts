/** Sync math over feed heads (DESIGN §7: feeds are contiguous, so heads say everything). */
import type { Heads, SeqRange } from '@keymesh/protocol';

/** The ranges `ahead` holds past `behind`. */
export function rangesAhead(ahead: Heads, behind: Heads): SeqRange[] {
  const out: SeqRange[] = [];
  for (const [author, seq] of Object.entries(ahead)) {
    const have = behind[author] ?? 0;
    if (seq > have) out.push({ author, from: have + 1, to: seq });
  }
  return out;
}

/**
 * What is left to send to one peer: ranges by author, merged, each author's list in descending
 * order so the next range is taken from the end (no shifting of long arrays).
 */
export type Outbox = Map<string, Array<{ from: number; to: number }>>;

/** Most ranges an outbox holds for one peer (a want's own limit); more are dropped, and asked again. */
export const MAX_OUTBOX_RANGES = 10_000;

/**
 * Adds ranges to an outbox, merged with what is there: grouped by author, sorted and merged
 * once per call, so a want of 10,000 scattered ranges costs a sort, not 10,000 of them.
 * Returns how many ranges were dropped for the bound.
 */
export function addRanges(box: Outbox, ranges: ReadonlyArray<{ author: string; from: number; to: number }>): number {
  const byAuthor = new Map<string, Array<{ from: number; to: number }>>();
  for (const r of ranges) {
    const list = byAuthor.get(r.author) ?? [];
    list.push({ from: r.from, to: r.to });
    byAuthor.set(r.author, list);
  }
  let total = 0;
  for (const list of box.values()) total += list.length;
  let dropped = 0;
  for (const [author, added] of byAuthor) {
    const all = [...(box.get(author) ?? []), ...added].sort((a, b) => a.from - b.from);
    const merged: Array<{ from: number; to: number }> = [];
    for (const r of all) {
      const last = merged[merged.length - 1];
      if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
      else merged.push({ ...r });
    }
    const before = box.get(author)?.length ?? 0;
    const room = MAX_OUTBOX_RANGES - (total - before);
    if (merged.length > room) (dropped += merged.length - Math.max(0, room), (merged.length = Math.max(0, room)));
    total += merged.length - before;
    if (merged.length) box.set(author, merged.reverse());
    else box.delete(author);
  }
  return dropped;
}

/** The parts of `ranges` not already in `sent` (an outbox of what went out this round). */
export function withoutSent(ranges: readonly SeqRange[], sent: Outbox): SeqRange[] {
  const out: SeqRange[] = [];
  for (const r of ranges) {
    const done = sent.get(r.author);
    if (!done) {
      out.push(r);
      continue;
    }
    let from = r.from;
    // `done` is merged and descending: walk it ascending.
    for (let i = done.length - 1; i >= 0 && from <= r.to; i--) {
      const d = done[i]!;
      if (d.to < from) continue;
      if (d.from > r.to) break;
      if (d.from > from) out.push({ author: r.author, from, to: d.from - 1 });
      from = d.to + 1;
    }
    if (from <= r.to) out.push({ author: r.author, from, to: r.to });
  }
  return out;
}
