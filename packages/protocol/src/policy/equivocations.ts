/**
 * Equivocation (DESIGN §4): two different entries with the same (author, seq). Both are kept as
 * proof, and from the lowest such seq on that author's entries are not trusted.
 */
export class Equivocations {
  private readonly seqs = new Map<string, Map<number, string[]>>();
  private readonly forkAt = new Map<string, number>();

  /** Records `hash` at (author, seq), once; true when it makes (or adds to) a fork. */
  track(author: string, seq: number, hash: string): boolean {
    let bySeq = this.seqs.get(author);
    if (!bySeq) this.seqs.set(author, (bySeq = new Map()));
    const same = bySeq.get(seq);
    if (!same) {
      bySeq.set(seq, [hash]);
      return false;
    }
    // Once each: an entry a store reported with noteSeqs (as fork proof) may be added later,
    // when the store's feed goes on with it (Ledger.takeOtherBranch).
    if (same.includes(hash)) return false;
    same.push(hash);
    const at = this.forkAt.get(author);
    if (at === undefined || seq < at) this.forkAt.set(author, seq);
    return true;
  }

  /** Is an entry at `seq` of `author` at or past the author's fork? */
  forkedOut(author: string, seq: number): boolean {
    const at = this.forkAt.get(author);
    return at !== undefined && seq >= at;
  }

  /** Each forked author's lowest forked seq and the hashes held there, by author. */
  list(): Array<{ author: string; seq: number; hashes: string[] }> {
    return [...this.forkAt].sort().map(([author, seq]) => ({ author, seq, hashes: [...this.seqs.get(author)!.get(seq)!].sort() }));
  }
}
