/**
 * Test support: a feed whose entries are written as raw canonical text and signed by hand, so
 * tests can make what a release of Keymesh never would (types of a newer release, stamps of a
 * broken clock, non-canonical text signed by its author).
 */
import { canonicalString, defaultCrypto, signingMessage, toHex, utf8, type Hlc, type KeyPair } from '@keymesh/protocol';

/** Signs the unsigned entry text `text` as its author would: sig over sha256(text), inserted where it sorts. */
export function signText(key: KeyPair, text: string): { line: string; hash: string } {
  const hash = defaultCrypto.sha256(utf8(text));
  const sig = toHex(key.signer.sign(signingMessage(hash)));
  const at = text.lastIndexOf(',"site":"');
  return { line: `${text.slice(0, at)},"sig":"${sig}"${text.slice(at)}`, hash: toHex(hash) };
}

export class RawFeed {
  private prev: string | null = null;
  seq = 0;

  constructor(readonly key: KeyPair, readonly site: string, private readonly clock: () => Hlc) {}

  get id(): string {
    return this.key.publicKey;
  }

  /** Continues a feed written elsewhere, whose head is `seq` with hash `prev`. */
  after(seq: number, prev: string): this {
    this.seq = seq;
    this.prev = prev;
    return this;
  }

  /** The next entry's unsigned canonical text (not yet part of the feed). */
  unsigned(type: string, body: unknown, opts: { deps?: string[]; hlc?: Hlc } = {}): string {
    return canonicalString({
      v: 1, site: this.site, author: this.id, seq: this.seq + 1, prev: this.prev,
      hlc: opts.hlc ?? this.clock(), type, deps: opts.deps ?? [], body: body as never,
    });
  }

  /** Signs `text` (from unsigned(), perhaps altered) as the next entry of the feed. */
  add(text: string): { line: string; hash: string } {
    const signed = signText(this.key, text);
    this.seq += 1;
    this.prev = signed.hash;
    return signed;
  }

  write(type: string, body: unknown, opts: { deps?: string[]; hlc?: Hlc } = {}): { line: string; hash: string } {
    return this.add(this.unsigned(type, body, opts));
  }
}
