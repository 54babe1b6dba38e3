/** One signed action at a time per view, with its outcome in words. */
import { useState } from 'preact/hooks';
import type { SignResult } from '../sign.js';

export interface Outcome { ok: boolean; text: string }

export function useAction(after: () => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const run = async (what: string, act: () => Promise<SignResult | { ok: true; text: string }>) => {
    if (busy) return;
    setBusy(true);
    setOutcome(null);
    try {
      const r = await act();
      setOutcome(r.ok ? { ok: true, text: 'text' in r ? `${what}: ${r.text}` : `${what}: signed and accepted (seq ${r.seq}).` } : { ok: false, text: `${what} refused (${r.code}): ${r.message}` });
      await after();
    } catch (e) {
      setOutcome({ ok: false, text: `${what} failed: ${(e as Error).message}` });
    } finally {
      setBusy(false);
    }
  };
  return { busy, outcome, run };
}

export function OutcomeLine({ outcome }: { outcome: Outcome | null }) {
  if (!outcome) return null;
  return <p class={outcome.ok ? 'ok' : 'error'} role="status" data-outcome={outcome.ok ? 'ok' : 'refused'}>{outcome.text}</p>;
}
