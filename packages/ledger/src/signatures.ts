/** Signature checks of received entries, and the refusal a bad one gets. */
import { fromHex, signingMessage } from '@keymesh/protocol';
import type { VerifyMode } from './types.js';
import type { LedgerCore, Parsed, Reject } from './core.js';

/** Signature checks for a contiguous run of one feed; returns the prefix that passed. */
export function checkRun(l: LedgerCore, run: Parsed[], mode: VerifyMode, reject: Reject): Parsed[] {
  if (run.length === 0) return run;
  const sigOk = (p: Parsed) => signatureOk(l, p);
  if (mode === 'batch' && sigOk(run[run.length - 1]!)) return run;
  for (let i = 0; i < run.length; i++) {
    const p = run[i]!;
    if (!sigOk(p)) {
      rejectBadSignature(p, reject);
      return run.slice(0, i);
    }
  }
  return run;
}

export function rejectBadSignature(p: Parsed, reject: Reject): void {
  // Bytes were proven canonical on arrival (checkLine), so a failure here is the signature's.
  const { author, seq } = p.entry;
  reject(p.json, author, seq, 'BAD_SIGNATURE', `signature of seq ${seq} by ${author.slice(0, 12)}… does not verify; entries after it wait for a good copy`);
}

export function signatureOk(l: LedgerCore, p: Parsed): boolean {
  return l.crypto.verify(fromHex(p.entry.author), signingMessage(p.hash), fromHex(p.entry.sig));
}
