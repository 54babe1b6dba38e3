/**
 * Members: search, status, suspend and reinstate (each a `member.put` signed in the page, with
 * the member register's heads as `deps`). A suspension also withdraws the member's signing keys
 * at their current heads, as `keymesh member suspend` does: what they signed before keeps counting.
 */
import { useState } from 'preact/hooks';
import type { BodyOf } from '@keymesh/protocol';
import { api, type MemberInfo } from '../api.js';
import { signAndSubmit } from '../sign.js';
import { localTime } from '../format.js';
import { useData, useSession } from '../session.js';
import { OutcomeLine, useAction } from './action.js';
import { EnrolCard } from './enrol.js';
import { MemberDetail } from './member-detail.js';
import { MemberForm } from './member-form.js';
import { EnrolByNumber } from './enrol-number.js';

async function bodyFor(m: MemberInfo, status: 'active' | 'suspended'): Promise<BodyOf<'member.put'>> {
  // The register as the coordinator holds it now, not the list's copy from a few seconds ago.
  const cur = (await api.policy<MemberInfo>(`member/${m.member}`))?.value ?? m;
  const keys = [];
  for (const [key, until] of Object.entries(cur.keys)) {
    keys.push({ key, until: status === 'suspended' && until === null ? (await api.head(key))?.seq ?? 0 : until });
  }
  return {
    member: cur.member, name: cur.name, contact: cur.contact, status, validUntil: cur.validUntil, keys,
    trainerFor: Object.entries(cur.trainerFor).map(([cert, until]) => ({ cert, until })),
  };
}

export function Members() {
  const session = useSession();
  const data = useData();
  const { busy, outcome, run } = useAction(data.refresh);
  const [q, setQ] = useState('');
  const [enrolFor, setEnrolFor] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  // The add form ('+'), a member's edit form (their id), or a member's enrol-by-number ('#' + id).
  const [form, setForm] = useState<string | null>(null);
  const needle = q.trim().toLowerCase();
  const list = data.members.filter((m) => !needle || m.member.toLowerCase().includes(needle) || m.name.toLowerCase().includes(needle));
  const setStatus = (m: MemberInfo, status: 'active' | 'suspended') =>
    run(`${status === 'suspended' ? 'Suspending' : 'Reinstating'} ${m.name}`, async () =>
      signAndSubmit(session.key, session.site.site, 'member.put', await bodyFor(m, status), [`member/${m.member}`]));
  return (
    <section>
      <label class="filter">Search <input type="search" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} placeholder="name or id" /></label>
      {form === '+' ? <MemberForm editing={null} busy={busy} run={run} onDone={() => setForm(null)} /> : <p><button type="button" data-action="add-member" onClick={() => setForm('+')}>Add a member</button></p>}
      <OutcomeLine outcome={outcome} />
      {list.length === 0 ? <p class="empty">{needle ? 'No member matches.' : 'No member yet: add one with the button above.'}</p> : (
        <ul class="cards">
          {list.map((m) => (
            <li key={m.member} data-member={m.member} class={m.status}>
              <h3>{m.name} <small>{m.member}</small></h3>
              <p data-field="status">{m.status}{m.validUntil !== null ? ` · valid until ${localTime(m.validUntil)}` : ''}</p>
              {m.contact && <p class="meta" data-field="contact">{m.contact}</p>}
              {Object.values(m.trainerFor).some((u) => u === null) && <p class="meta">trains: {Object.keys(m.trainerFor).filter((c) => m.trainerFor[c] === null).join(', ')}</p>}
              {m.status === 'active'
                ? <button type="button" disabled={busy} onClick={() => void setStatus(m, 'suspended')}>Suspend</button>
                : <button type="button" disabled={busy} onClick={() => void setStatus(m, 'active')}>Reinstate</button>}
              {form === m.member
                ? <MemberForm editing={m} busy={busy} run={run} onDone={() => setForm(null)} />
                : <button type="button" disabled={busy} onClick={() => setForm(m.member)}>Edit</button>}
              {form === `#${m.member}`
                ? <EnrolByNumber member={m} busy={busy} run={run} onDone={() => setForm(null)} />
                : <button type="button" disabled={busy} onClick={() => setForm(`#${m.member}`)}>Enrol a card by its number</button>}
              {enrolFor === m.member
                ? <EnrolCard member={m} busy={busy} run={run} onDone={() => setEnrolFor(null)} />
                : <button type="button" disabled={busy} onClick={() => setEnrolFor(m.member)}>Enrol a card by tapping</button>}
              <button type="button" aria-expanded={open === m.member} onClick={() => setOpen(open === m.member ? null : m.member)}>{open === m.member ? 'Hide details' : 'Details'}</button>
              {open === m.member && <MemberDetail member={m.member} busy={busy} run={run} />}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
