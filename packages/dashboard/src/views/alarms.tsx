/**
 * Alarms: what needs an admin, from the coordinator (its alarms: forks, conflicts, quarantine,
 * entries held for a newer version; the quarantined entries with their reasons; stale and
 * offline nodes from the live view). Conflicts and forks, with what resolves them: conflicts.tsx.
 */
import { useEffect, useState } from 'preact/hooks';
import { get } from '../api.js';
import { duration, localTime, short } from '../format.js';
import { useData, useLive, useSession } from '../session.js';
import { Conflicts } from './conflicts.js';

interface Alarm { kind: string; message: string }
interface Quarantined { id: number; receivedAt: number; lastSeen: number; count: number; author: string | null; seq: number | null; code: string; reason: string }

/** Rules older than this on an online node are shown as drift. */
const STALE_MS = 10 * 60_000;

export function Alarms() {
  const { live } = useSession();
  const data = useData();
  useLive(live);
  const [alarms, setAlarms] = useState<Alarm[]>([]);
  const [quarantine, setQuarantine] = useState<Quarantined[]>([]);
  const [error, setError] = useState<string | null>(null);
  const load = async () => {
    try {
      const [a, q] = await Promise.all([get<{ alarms: Alarm[] }>('/api/alarms'), get<{ quarantine: Quarantined[] }>('/api/quarantine?limit=100')]);
      setAlarms(a.alarms);
      setQuarantine(q.quarantine);
      setError(null);
    } catch (e) {
      setError(`the alarms did not load: ${(e as Error).message}`);
    }
  };
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), 3000);
    return () => clearInterval(timer);
  }, []);
  const now = Date.now();
  const nodeAlarms = data.nodes.filter((n) => n.role === 'edge' && !n.retired).flatMap((n) => {
    const s = live.statuses.get(n.node);
    const online = s ? s.online : n.online === true;
    if (!online) return [`${n.name} is offline${n.lastSeen ? ` since ${localTime(n.lastSeen)}` : ''}`];
    if (s && s.rulesFreshAt !== null && now - s.rulesFreshAt > STALE_MS) return [`${n.name}'s rules were last confirmed ${duration(now - s.rulesFreshAt)} ago`];
    return [];
  });
  const all = [...alarms.map((a) => a.message), ...nodeAlarms];
  return (
    <section>
      {error && <p class="error" role="alert">{error}</p>}
      {all.length === 0 ? <p class="empty">No alarm: no fork, no conflict, nothing refused, every node online.</p> : (
        <ul class="alarms">{all.map((m) => <li key={m} data-alarm>{m}</li>)}</ul>
      )}
      <Conflicts onResolved={load} />
      <h2>Refused entries (quarantine)</h2>
      {quarantine.length === 0 ? <p class="empty">No refused entry.</p> : (
        <table class="log">
          <thead><tr><th>Last seen</th><th>Author</th><th>Seq</th><th>Why</th></tr></thead>
          <tbody>
            {quarantine.map((q) => (
              <tr key={q.id} data-quarantine={q.code}>
                <td>{localTime(q.lastSeen)}{q.count > 1 ? ` (${q.count}×)` : ''}</td>
                <td>{q.author ? short(q.author) : 'unknown'}</td>
                <td>{q.seq ?? ''}</td>
                <td><strong>{q.code}</strong>: {q.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
