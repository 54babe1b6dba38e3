/**
 * A new site (DESIGN §3 "Recovery"): the genesis names two admin keys, the daily one and a
 * recovery key meant to be printed or kept offline, at quorum 1, so that a forked or lost daily
 * key can be removed by the recovery key alone and the site never freezes on one bad key. The
 * site card key is made with it and stays out of the ledger.
 */
import { signEntry } from './entry.js';
import { generateKeyPair, type KeyPair } from './keys.js';
import { defaultCrypto, type CryptoProvider } from './crypto/index.js';
import type { Entry } from './schemas/entry.js';
import { generateSiteCardKey, type SiteCardKey } from './card-ref.js';

export interface NewSite {
  /** The site id: the genesis entry's hash. */
  site: string;
  genesis: { entry: Entry<'site.genesis'>; hash: string; wire: string };
  /** Signs the genesis (its seq 1) and the daily admin work. */
  daily: KeyPair;
  /** Kept offline; used to remove a forked or lost daily key. */
  recovery: KeyPair;
  /**
   * The site card key (hex): turns card uids into the references entries carry (card-ref.ts).
   * Handed to enrolled edges and admin tools; never published, never in the ledger.
   */
  cardKey: SiteCardKey;
}

export function createSite(opts: { name: string; now?: number; daily?: KeyPair; recovery?: KeyPair; cardKey?: SiteCardKey; crypto?: CryptoProvider }): NewSite {
  const crypto = opts.crypto ?? defaultCrypto;
  const daily = opts.daily ?? generateKeyPair(crypto);
  const recovery = opts.recovery ?? generateKeyPair(crypto);
  if (daily.publicKey === recovery.publicKey) throw new RangeError('the daily and the recovery admin keys must differ');
  const { entry, hash, wire } = signEntry(daily, {
    site: '', seq: 1, prev: null, hlc: { wall: opts.now ?? Date.now(), logical: 0 }, type: 'site.genesis', deps: [],
    body: { name: opts.name, admins: [daily.publicKey, recovery.publicKey], quorum: 1 },
  }, crypto);
  return { site: hash, genesis: { entry, hash, wire }, daily, recovery, cardKey: opts.cardKey ?? generateSiteCardKey(crypto) };
}
