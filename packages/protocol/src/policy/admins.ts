/**
 * Changing the admin set needs the quorum named by the set it replaces (DESIGN §3). The author's
 * entry signature is one approval; the others are detached signatures over the proposal.
 */
import { canonicalBytes } from '../canonical.js';
import { fromHex, toHex } from '../bytes.js';
import { SIGNING_DOMAINS, domainMessage } from '../crypto/domains.js';
import { defaultCrypto, type CryptoProvider } from '../crypto/index.js';
import type { KeyPair } from '../keys.js';
import type { BodyOf } from '../schemas/bodies.js';


export interface AdminsProposal {
  site: string;
  /** The admins heads being replaced (sorted). */
  deps: string[];
  admins: BodyOf<'admins.change'>['admins'];
  quorum: number;
}

export function approvalMessage(p: AdminsProposal, crypto: CryptoProvider = defaultCrypto): Uint8Array {
  const digest = crypto.sha256(canonicalBytes({ site: p.site, deps: [...p.deps].sort(), admins: p.admins, quorum: p.quorum }));
  return domainMessage(SIGNING_DOMAINS.adminApproval, digest);
}

export function approveAdminsChange(key: KeyPair, p: AdminsProposal, crypto: CryptoProvider = defaultCrypto): { key: string; sig: string } {
  return { key: key.publicKey, sig: toHex(key.signer.sign(approvalMessage(p, crypto))) };
}

export function approvalIsValid(approval: { key: string; sig: string }, p: AdminsProposal, crypto: CryptoProvider = defaultCrypto): boolean {
  return crypto.verify(fromHex(approval.key), approvalMessage(p, crypto), fromHex(approval.sig));
}
