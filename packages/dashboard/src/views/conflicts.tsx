/**
 * Conflicts and forks (GET /api/conflicts, /api/forks), each with what resolves it. A conflict is
 * a policy key with concurrent heads, read meanwhile by the fail-safe rule; it is resolved by a
 * new entry naming every head in `deps` (signAndSubmit reads the key's heads as its deps):
 * - a member: sign their record again as it reads now (the fail-safe merge);
 * - a card bound to two members: bind it to one of them, or unbind it;
 * - a certification: keep it granted or revoked;
 * - a lockout: keep the state it reads now.
 * Other keys (a resource's settings, the admin set) are resolved with `keymesh`. A fork (one key
 * signed two entries at one seq) is resolved by retiring or removing that key: shown, not signed here.
 */
import { useEffect, useState } from 'preact/hooks';
import type { BodyOf, CardValue, EntryType, KeyPair, LockoutValue } from '@keymesh/protocol';
import { api, get } from '../api.js';
import { checkMember, currentMember } from '../member-body.js';
import { short } from '../format.js';
import { useData, useSession } from '../session.js';
import { signAndSubmit, type SignResult } from '../sign.js';
import { OutcomeLine, useAction } from './action.js';

interface Conflict { key: string; heads: string[] }
interface Fork { author: string; seq: number; hashes: string[]; resolved: boolean }
interface Resolution { label: string; act: () => Promise<SignResult> }

function resolutions(c: Conflict, sign: ReturnType<typeof signer>): Resolution[] | Promise<Resolution[]> {
  const [kind, a, b] = c.key.split('/');
  if (kind === 'member' && a) {
    return [{ label: 'Keep the record as it reads now', act: async () => {
      const cur = await currentMember(a);
      if (!cur) return { ok: false, code: 'NOT_FOUND', message: `no member "${a}" any more; nothing was signed` };
      const checked = checkMember(cur);
      return checked.ok ? sign('member.put', checked.body, c.key) : checked;
    } }];
  }
  if (kind === 'card' && a) {
    return api.policy<CardValue>(c.key).then((p) => {
      const v = p?.value;
      const members = v?.state === 'conflict' ? v.members : v?.state === 'bound' ? [v.member] : [];
      return [
        ...members.map((m) => ({ label: `Bind the card to ${m}`, act: () => sign('card.bind', { card: a, member: m }, c.key) })),
        { label: 'Unbind the card', act: () => sign('card.unbind', { card: a, reason: 'conflict resolved from the dashboard' }, c.key) },
      ];
    });
  }
  if (kind === 'cert' && a && b) {
    return [
      { label: 'Keep it granted', act: () => sign('cert.grant', { member: a, cert: b, grantedBy: null, note: 'conflict resolved from the dashboard' }, c.key) },
      { label: 'Keep it revoked', act: () => sign('cert.revoke', { member: a, cert: b, revokedBy: null, reason: 'conflict resolved from the dashboard' }, c.key) },
    ];
  }
  if (kind === 'lockout' && a) {
    return api.policy<LockoutValue>(c.key).then((p) => {
      const state = p?.value.state ?? 'lifted';
      return [{ label: `Keep it ${state === 'lifted' ? 'lifted' : state === 'now' ? 'locked out' : 'locked out when idle'}`, act: () => sign('resource.lockout', { resource: a, state, by: null, reason: 'conflict resolved from the dashboard' }, c.key) }];
    });
  }
  return [];
}

function signer(key: KeyPair, site: string) {
  return <T extends EntryType>(type: T, body: BodyOf<T>, policyKey: string) => signAndSubmit(key, site, type, body, [policyKey]);
}

function ConflictRow({ c, busy, run }: { c: Conflict; busy: boolean; run: (what: string, act: () => Promise<SignResult>) => Promise<void> }) {
  const { key, site } = useSession();
  const [options, setOptions] = useState<Resolution[] | null>(null);
  useEffect(() => {
    void Promise.resolve(resolutions(c, signer(key, site.site))).then(setOptions, () => setOptions([]));
  }, [c.key, c.heads.join()]);
  return (
    <li data-conflict={c.key}>
      <strong>{c.key}</strong>: {c.heads.length} concurrent edits ({c.heads.map((h) => h.slice(0, 8)).join(', ')}); read by the fail-safe rule meanwhile.{' '}
      {options === null ? null : options.length === 0 ? <span class="meta">Resolve it with <code>keymesh</code> (an update names every head).</span>
        : options.map((o) => <button type="button" key={o.label} disabled={busy} onClick={() => void run(`Resolving ${c.key}`, o.act)}>{o.label}</button>)}
    </li>
  );
}

export function Conflicts({ onResolved }: { onResolved?: () => Promise<void> }) {
  const data = useData();
  const [conflicts, setConflicts] = useState<Conflict[]>([]);
  const [forks, setForks] = useState<Fork[]>([]);
  const [error, setError] = useState<string | null>(null);
  const load = async () => {
    try {
      const [c, f] = await Promise.all([get<{ conflicts: Conflict[] }>('/api/conflicts'), get<{ forks: Fork[] }>('/api/forks')]);
      setConflicts(c.conflicts);
      setForks(f.forks);
      setError(null);
    } catch (e) {
      setError(`the conflicts did not load: ${(e as Error).message}`);
    }
  };
  const { busy, outcome, run } = useAction(async () => {
    await Promise.all([load(), data.refresh(), onResolved?.()]);
  });
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), 3000);
    return () => clearInterval(timer);
  }, []);
  return (
    <>
      <h2>Conflicts</h2>
      {error && <p class="error" role="alert">{error}</p>}
      <OutcomeLine outcome={outcome} />
      {conflicts.length === 0 ? <p class="empty">No conflict: no record was edited twice at once.</p> : (
        <ul data-field="conflicts">{conflicts.map((c) => <ConflictRow key={c.key} c={c} busy={busy} run={run} />)}</ul>
      )}
      <h2>Forks</h2>
      {forks.length === 0 ? <p class="empty">No fork: no key signed two entries at one place.</p> : (
        <ul data-field="forks">{forks.map((f) => (
          <li key={`${f.author}/${f.seq}`} data-fork={f.author}>
            Key <code>{short(f.author)}</code> signed {f.hashes.length} different entries at seq {f.seq}{f.resolved ? ': its trust was withdrawn before the fork (kept as proof; nothing to do).' : ': retire that node (`keymesh node retire`) or remove that admin key, naming the last seq that still counts.'}
          </li>
        ))}</ul>
      )}
    </>
  );
}
