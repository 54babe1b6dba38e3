/**
 * Enrol a card by the number printed on the fob: the page turns it into the card's reference
 * with the site card key held in this browser (card-key.ts) and binds that reference with a
 * signed `card.bind`. The typed number never leaves the page; the form is cleared once bound.
 */
import { useEffect, useState } from 'preact/hooks';
import type { CardUidForm } from '@keymesh/protocol';
import type { MemberInfo } from '../api.js';
import { parseCardKeyFile, refOfPrinted, storeCardKey, storedCardKey } from '../card-key.js';
import { useSession } from '../session.js';
import { signAndSubmit, type SignResult } from '../sign.js';

type Run = (what: string, act: () => Promise<SignResult>) => Promise<void>;

export function EnrolByNumber({ member, busy, run, onDone }: { member: MemberInfo; busy: boolean; run: Run; onDone: () => void }) {
  const { key, site } = useSession();
  const [cardKey, setCardKey] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [text, setText] = useState('');
  const [form, setForm] = useState<CardUidForm>('decimal');
  useEffect(() => {
    storedCardKey().then(setCardKey, (e: Error) => setError(`this browser could not read its card key (${e.message})`));
  }, []);
  const onFile = async (e: Event) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (!file) return;
    try {
      const k = parseCardKeyFile(await file.text());
      await storeCardKey(k);
      setCardKey(k);
      setError(null);
    } catch (err) {
      setError(`that card key file was not taken: ${(err as Error).message}`);
    }
  };
  const bind = (e: Event) => {
    e.preventDefault();
    if (!cardKey) return;
    let card: string;
    try {
      card = refOfPrinted(cardKey, text, form);
    } catch (err) {
      setError(`that is not a card number: ${(err as Error).message}`);
      return;
    }
    setError(null);
    void run(`Binding the typed card to ${member.name}`, async () => {
      const r = await signAndSubmit(key, site.site, 'card.bind', { card, member: member.member }, [`card/${card}`]);
      if (r.ok) {
        setText('');
        onDone();
      }
      return r;
    });
  };
  return (
    <div class="enrol" role="region" aria-label={`enrol a card by its number for ${member.name}`}>
      {cardKey === undefined ? <p class="meta">…</p> : cardKey === null ? (
        <>
          <p>To turn a printed number into a card reference this browser needs the site card key, once: <code>card.key</code> in the coordinator's data folder (<code>keymesh init</code> wrote it). It is kept in this browser only and never sent anywhere.</p>
          <label class="file">Site card key file <input type="file" data-field="card-key-file" accept=".key,.json,application/json" onChange={(e) => void onFile(e)} /></label>
        </>
      ) : (
        <form data-form="enrol-number" onSubmit={bind}>
          <label>Number on the fob <input name="uid" value={text} required autocomplete="off" onInput={(e) => setText((e.target as HTMLInputElement).value)} /></label>{' '}
          <label>as <select name="form" value={form} onChange={(e) => setForm((e.target as HTMLSelectElement).value as CardUidForm)}>
            <option value="decimal">decimal (digits)</option>
            <option value="facility">facility,number</option>
            <option value="hex">hex bytes</option>
          </select></label>{' '}
          <button type="submit" disabled={busy}>Bind to {member.name}</button>
        </form>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      <button type="button" onClick={onDone}>Cancel</button>
    </div>
  );
}
