/** Live log: decisions as they arrive on the feeds (newest first), older pages from GET /api/log. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { reasonWords, rowOf, type Row } from '../live.js';
import { localTime } from '../format.js';
import { useData, useLive, useSession } from '../session.js';

export function LiveLog() {
  const { live } = useSession();
  const data = useData();
  useLive(live);
  const [next, setNext] = useState<string | null | undefined>(undefined);
  const [filter, setFilter] = useState('');
  const [error, setError] = useState<string | null>(null);

  const load = async (before?: string) => {
    try {
      const page = await api.log(before);
      live.addRows(page.rows.map((r) => rowOf(r)).filter((r): r is Row => r !== null));
      setNext(page.next);
      setError(null);
    } catch (e) {
      setError(`the access log did not load: ${(e as Error).message}`);
    }
  };
  useEffect(() => {
    void load();
  }, []);

  const resName = (id: string) => data.resources.find((r) => r.resource === id)?.name ?? id;
  const memName = (id: string | null) => (id === null ? 'unknown card' : data.members.find((m) => m.member === id)?.name ?? id);
  const needle = filter.trim().toLowerCase();
  const rows = live.rows.filter((r) => !needle || [r.member ?? '', memName(r.member), r.resource, resName(r.resource), r.allow ? 'allowed' : 'denied', reasonWords(r.reason)].some((s) => s.toLowerCase().includes(needle)));
  return (
    <section>
      <label class="filter">Filter <input type="search" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} placeholder="member, door, denied…" /></label>
      {error && <p class="error" role="alert">{error}</p>}
      {rows.length === 0 ? <p class="empty">{needle ? 'No decision matches the filter.' : 'No decision yet: taps at any reader appear here as they happen.'}</p> : (
        <table class="log">
          <thead><tr><th>Time</th><th>Member</th><th>Where</th><th>Outcome</th><th>Why</th></tr></thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.hash} data-row={r.hash} class={r.allow ? 'allow' : 'deny'}>
                <td>{localTime(r.at)}</td>
                <td data-field="member">{memName(r.member)}</td>
                <td>{resName(r.resource)}</td>
                <td data-field="outcome">{r.allow ? 'allowed' : 'denied'}</td>
                <td data-field="reason">{r.allow ? '' : reasonWords(r.reason)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && <button type="button" onClick={() => void load(next)}>Load older decisions</button>}
    </section>
  );
}
