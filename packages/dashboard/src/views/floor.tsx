/** Floor: one tile per door and machine, from the nodes' live status and state (alarms stand out). */
import { useData, useLive, useSession } from '../session.js';
import { duration, lockoutWords, localTime, stateWords } from '../format.js';

const ALARM_STATES = new Set(['forced', 'held_open']);

export function Floor() {
  const { live } = useSession();
  const data = useData();
  useLive(live);
  const now = Date.now();
  const tiles = data.nodes.filter((n) => n.role === 'edge' && !n.retired).flatMap((n) => n.resources.map((r) => ({ n, r })))
    .sort((a, b) => a.r.localeCompare(b.r)); // a stable order: the API's follows enrolment
  if (tiles.length === 0) return <p class="empty">No door or machine is enrolled yet. Enrol one with <code>keymesh node enrol</code>.</p>;
  return (
    <ul class="tiles">
      {tiles.map(({ n, r }) => {
        const res = data.resources.find((x) => x.resource === r);
        const status = live.statuses.get(n.node);
        const state = live.states.get(n.node);
        const online = status ? status.online : n.online === true;
        const lockout = res?.lockout ?? 'lifted';
        const alarm = !online || (state && ALARM_STATES.has(state.state)) || lockout === 'now' || (status?.heldForNewerVersion ?? 0) > 0;
        const lag = status && status.acked !== null ? status.head - status.acked : null;
        return (
          <li key={`${n.node}/${r}`} class={`tile ${online ? 'online' : 'offline'}${alarm ? ' alarm' : ''}`} data-node={n.name} data-resource={r}>
            <h3>{res?.name ?? r} <small>{res?.kind ?? ''}</small></h3>
            <p class="conn" data-field="online">{online ? 'online' : 'offline'}</p>
            <p data-field="state">
              {state && !online ? 'last known: ' : ''}
              {state ? stateWords(state.state) : 'state not heard yet'}
              {state?.member ? ` by ${state.member}` : ''}
              {state && state.state === 'in_use' ? ` for ${duration(now - state.at)}` : ''}
            </p>
            {res?.kind === 'machine' && <p data-field="lockout" class={lockout === 'lifted' ? '' : 'warn'}>{lockoutWords(lockout)}</p>}
            <p class="meta">
              {n.name} · {status?.rulesFreshAt ? `rules confirmed ${duration(now - status.rulesFreshAt)} ago` : 'rules not confirmed fresh yet'}
              {lag ? ` · ${lag} entries not yet acknowledged` : ''}
              {!online && n.lastSeen ? ` · last seen ${localTime(n.lastSeen)}` : ''}
              {(status?.heldForNewerVersion ?? 0) > 0 ? ` · ${status!.heldForNewerVersion} entries held for a newer version` : ''}
            </p>
          </li>
        );
      })}
    </ul>
  );
}
