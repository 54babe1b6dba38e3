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

/** What is left to send to one peer: ranges by author, merged, in the order they were asked for. */
export type Outbox = Map<string, Array<{ from: number; to: number }>>;

/** Adds seqs from..to of `author` to an outbox, merged with the ranges already there. */
export function addRange(box: Outbox, author: string, from: number, to: number): void {
  const list = box.get(author) ?? [];
  list.push({ from, to });
  list.sort((a, b) => a.from - b.from);
  const merged: Array<{ from: number; to: number }> = [];
  for (const r of list) {
    const last = merged[merged.length - 1];
    if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else merged.push({ ...r });
  }
  box.set(author, merged);
}
