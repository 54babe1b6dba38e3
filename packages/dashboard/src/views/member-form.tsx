/**
 * Add a member, or edit one's name, contact and validity: a `member.put` signed in the page
 * (`deps`: the member register's heads). Adding refuses an id already taken; editing starts
 * from the record as the coordinator holds it when the admin saves, so keys and trainer scopes
 * are kept as they are. The form is checked against the protocol's schema before signing.
 */
import { useState } from 'preact/hooks';
import { signAndSubmit, type SignResult } from '../sign.js';
import type { MemberInfo } from '../api.js';
import { checkMember, currentMember } from '../member-body.js';
import { useSession } from '../session.js';

/** YYYY-MM-DD → the end of that day in this browser's zone (paid up to and including it). */
function endOfDay(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return null;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59, 999).getTime();
}

function dayOf(ms: number | null): string {
  if (ms === null) return '';
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

type Run = (what: string, act: () => Promise<SignResult>) => Promise<void>;

export function MemberForm({ editing, busy, run, onDone }: { editing: MemberInfo | null; busy: boolean; run: Run; onDone: () => void }) {
  const { key, site } = useSession();
  const [id, setId] = useState(editing?.member ?? '');
  const [name, setName] = useState(editing?.name ?? '');
  const [contact, setContact] = useState(editing?.contact ?? '');
  const [until, setUntil] = useState(dayOf(editing?.validUntil ?? null));
  const save = (e: Event) => {
    e.preventDefault();
    const member = id.trim();
    void run(editing ? `Saving ${member}` : `Adding ${member || 'a member'}`, async (): Promise<SignResult> => {
      const validUntil = until === '' ? null : endOfDay(until);
      if (until !== '' && validUntil === null) return { ok: false, code: 'BAD_INPUT', message: 'valid until is a date (YYYY-MM-DD), or empty for no expiry; nothing was signed' };
      const fields = { member, name: name.trim(), contact: contact.trim(), validUntil };
      // The form checked first: an id the protocol refuses is never looked up.
      const form = checkMember({ status: 'active', keys: [], trainerFor: [], ...fields });
      if (!form.ok) return form;
      const cur = await currentMember(member);
      if (!editing && cur) return { ok: false, code: 'EXISTS', message: `a member with id "${member}" already exists (${cur.name}); edit that one, or choose another id; nothing was signed` };
      if (editing && !cur) return { ok: false, code: 'NOT_FOUND', message: `the coordinator holds no member "${member}"; nothing was signed` };
      const base = cur ?? { member, status: 'active' as const, keys: [], trainerFor: [] };
      const checked = checkMember({ ...base, ...fields });
      if (!checked.ok) return checked;
      const r = await signAndSubmit(key, site.site, 'member.put', checked.body, [`member/${member}`]);
      if (r.ok) onDone();
      return r;
    });
  };
  return (
    <form class="member-form" data-form={editing ? 'edit-member' : 'add-member'} onSubmit={save} aria-label={editing ? `edit ${editing.name}` : 'add a member'}>
      <label>Id <input name="member" value={id} disabled={!!editing} required onInput={(e) => setId((e.target as HTMLInputElement).value)} placeholder="ada" /></label>
      <label>Name <input name="name" value={name} required onInput={(e) => setName((e.target as HTMLInputElement).value)} /></label>
      <label>Contact <input name="contact" value={contact} onInput={(e) => setContact((e.target as HTMLInputElement).value)} placeholder="email or phone" /></label>
      <label>Valid until <input name="validUntil" type="date" value={until} onInput={(e) => setUntil((e.target as HTMLInputElement).value)} /> <small>empty: no expiry</small></label>
      <p class="actions">
        <button type="submit" disabled={busy}>{editing ? 'Save' : 'Add member'}</button>
        <button type="button" onClick={onDone}>Cancel</button>
      </p>
    </form>
  );
}
