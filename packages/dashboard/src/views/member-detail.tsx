/**
 * A member's cards (by reference), certifications (and who granted them) and recent events, from
 * GET /api/members/:id; certifications granted and revoked here as signed `cert.grant` /
 * `cert.revoke` entries (an admin's own: no trainer named; `deps`: the certification's heads).
 */
import { useEffect, useState } from 'preact/hooks';
import type { CardValue, CertValue } from '@keymesh/protocol';
import { get, type LogRow } from '../api.js';
import { duration, localTime } from '../format.js';
import { reasonWords } from '../live.js';
import { useData, useSession } from '../session.js';
import { signAndSubmit, type SignResult } from '../sign.js';

interface Detail { cards: CardValue[]; certifications: CertValue[]; recent: LogRow[] }

function eventWords(r: LogRow): string {
  if (r.type === 'access.decision') return r.allow ? 'allowed' : `denied: ${reasonWords(String(r.detail.reason ?? ''))}`;
  if (r.type === 'machine.session') return r.detail.event === 'end' ? `session ended${typeof r.detail.seconds === 'number' ? ` after ${duration(r.detail.seconds * 1000)}` : ''}` : 'session started';
  return r.type;
}

export function MemberDetail({ member, busy, run }: { member: string; busy: boolean; run: (what: string, act: () => Promise<SignResult>) => Promise<void> }) {
  const { key, site } = useSession();
  const data = useData();
  const [detail, setDetail] = useState<Detail | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    get<Detail>(`/api/members/${encodeURIComponent(member)}`).then(setDetail, (e: Error) => setError(`the member's details did not load: ${e.message}`));
  }, [member, data.members]);
  if (error) return <p class="error" role="alert">{error}</p>;
  if (!detail) return <p class="meta">Loading…</p>;
  const name = (id: string) => data.resources.find((r) => r.resource === id)?.name ?? id;
  const held = new Set(detail.certifications.map((c) => c.cert));
  const grantable = data.resources.filter((r) => r.kind === 'machine' && !held.has(r.resource));
  const machineSeconds = detail.recent.reduce((s, r) => s + (r.type === 'machine.session' && typeof r.detail.seconds === 'number' ? r.detail.seconds : 0), 0);
  return (
    <div class="detail">
      <h4>Cards</h4>
      {detail.cards.length === 0 ? <p class="empty">No card.</p> : (
        <ul data-field="cards">{detail.cards.map((c) => <li key={c.card}>{c.card.slice(0, 8)}… {c.state === 'conflict' ? '(bound to two members: opens nothing)' : ''}</li>)}</ul>
      )}
      <h4>Certifications</h4>
      {detail.certifications.length === 0 ? <p class="empty">None.</p> : (
        <ul data-field="certs">{detail.certifications.map((c) => (
          <li key={c.cert} data-cert={c.cert}>{name(c.cert)}: granted {c.by ? `by trainer ${c.by}` : 'by an admin'}{' '}
            <button type="button" disabled={busy} onClick={() => void run(`Revoking ${name(c.cert)} from ${member}`, () => signAndSubmit(key, site.site, 'cert.revoke', { member, cert: c.cert, revokedBy: null, reason: 'revoked from the dashboard' }, [`cert/${member}/${c.cert}`]))}>Revoke</button>
          </li>
        ))}</ul>
      )}
      {grantable.length > 0 && <p>{grantable.map((r) => (
        <button type="button" key={r.resource} data-grant={r.resource} disabled={busy} onClick={() => void run(`Certifying ${member} for ${r.name}`, () => signAndSubmit(key, site.site, 'cert.grant', { member, cert: r.resource, grantedBy: null, note: 'granted from the dashboard' }, [`cert/${member}/${r.resource}`]))}>Certify for {r.name}</button>
      ))}</p>}
      <h4>Recent</h4>
      {detail.recent.length === 0 ? <p class="empty">Nothing yet.</p> : (
        <ul>{detail.recent.map((r) => <li key={r.hash}>{localTime(r.at)} · {name(r.resource)} · {eventWords(r)}</li>)}</ul>
      )}
      {machineSeconds > 0 && <p class="meta">Machine time in these events: {duration(machineSeconds * 1000)}</p>}
    </div>
  );
}
