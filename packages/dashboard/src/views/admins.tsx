/**
 * Admins: the admin set, and approving a new browser's key from inside the page. The mechanism
 * is a paste: a new browser's sign-in page shows its own key ("This browser's own key"); the
 * person there reads it to an admin (or sends it), and the admin pastes it here, which signs the
 * `admins.change` adding it (addAdmin). The new browser then signs in with its own key; no file
 * changes hands. With a quorum above 1 the page says so and signs nothing (`keymesh admin add`).
 */
import { useEffect, useState } from 'preact/hooks';
import type { AdminsValue } from '@keymesh/protocol';
import { addAdmin } from '../admins.js';
import { api } from '../api.js';
import { short } from '../format.js';
import { useData, useSession } from '../session.js';
import { OutcomeLine, useAction } from './action.js';

export function Admins() {
  const { key, site, page } = useSession();
  const data = useData();
  const [reg, setReg] = useState<AdminsValue | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [text, setText] = useState('');
  const load = async () => {
    try {
      setReg((await api.policy<AdminsValue>('admins'))?.value ?? null);
      setError(null);
    } catch (e) {
      setError(`the admin set did not load: ${(e as Error).message}`);
    }
  };
  const { busy, outcome, run } = useAction(async () => {
    await Promise.all([load(), data.refresh()]);
  });
  useEffect(() => void load(), []);
  const current = reg ? Object.keys(reg.admins).filter((k) => reg.admins[k] === null).sort() : [];
  const add = (e: Event) => {
    e.preventDefault();
    void run('Adding an admin', async () => {
      const r = await addAdmin(key, text, site.site);
      if (r.ok) setText('');
      return r;
    });
  };
  return (
    <section>
      {error && <p class="error" role="alert">{error}</p>}
      <h2>Admins</h2>
      {!reg ? <p class="meta">Loading…</p> : (
        <>
          <p class="meta">{current.length} admin{current.length === 1 ? '' : 's'}; a change to this set needs {reg.quorum} signature{reg.quorum === 1 ? '' : 's'}.</p>
          <ul data-field="admins">{current.map((k) => (
            <li key={k} data-admin={k}><code>{short(k)}</code>{k === key.publicKey ? ' (signing in this tab)' : k === page.publicKey ? " (this browser's key)" : ''}</li>
          ))}</ul>
        </>
      )}
      <h2>Approve a new browser</h2>
      <p>Open the dashboard in the new browser: its sign-in page shows <em>This browser's own key</em>. Paste that key here; once added, that browser signs in with its own key.</p>
      <form class="pick" data-form="add-admin" onSubmit={add}>
        <label>Browser's key <input name="key" value={text} size={66} required autocomplete="off" spellcheck={false} onInput={(e) => setText((e.target as HTMLInputElement).value)} placeholder="64 hex digits" /></label>
        <button type="submit" disabled={busy}>Add admin</button>
      </form>
      <OutcomeLine outcome={outcome} />
    </section>
  );
}
