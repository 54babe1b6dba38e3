/**
 * Haves, wants and statuses on a bus are signed by their node under the sync domain (DESIGN
 * §4): the topic names a sender, and only the signature proves it (a forged want would turn a
 * small message into a large send to anyone; a forged have would confirm rules fresh).
 */
import { SIGNING_DOMAINS, signDomain, verifyDomain, type CryptoProvider, type KeyPair } from '@keymesh/protocol';

export function signSync<T extends object>(msg: T, key: KeyPair, crypto?: CryptoProvider): T & { sig: string } {
  return { ...msg, sig: signDomain(SIGNING_DOMAINS.sync, msg, key, crypto) };
}

/** Whether `msg` carries a valid signature by `from`. */
export function signedBy(msg: { sig?: string | undefined }, from: string, crypto?: CryptoProvider): boolean {
  const { sig, ...unsigned } = msg;
  return sig !== undefined && verifyDomain(SIGNING_DOMAINS.sync, unsigned, sig, from, crypto);
}
