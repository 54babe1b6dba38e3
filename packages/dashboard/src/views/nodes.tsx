/**
 * Nodes: enrolled nodes, versions, last seen; a door's remote unlock as a signed command
 * published on cmd/<node> (the node checks it again: signature, admin, expiry, once); a
 * machine's lockout (now, when idle, lift) as a signed `resource.lockout` entry.
 */
import { makeCommand, canonicalString, pureCrypto } from '@keymesh/protocol';
import { signAndSubmit } from '../sign.js';
import { localTime, lockoutWords, short } from '../format.js';
import { useData, useLive, useSession } from '../session.js';
import { OutcomeLine, useAction } from './action.js';

export function Nodes() {
  const session = useSession();
  const { live, key, site } = session;
  const data = useData();
  useLive(live);
  const { busy, outcome, run } = useAction(data.refresh);
  const nodes = data.nodes.filter((n) => !n.retired);
  if (nodes.length === 0) return <p class="empty">No node is enrolled yet.</p>;

  const unlock = (node: string, resource: string) => run(`Unlocking ${resource}`, async () => {
    const cmd = makeCommand({ site: site.site, node, resource, issuedAt: Date.now() }, key, pureCrypto);
    await live.publishCommand(node, canonicalString(cmd));
    return { ok: true as const, text: `signed command ${cmd.id.slice(0, 8)}… sent to the node (valid 30 s)` };
  });
  const lockout = (resource: string, state: 'now' | 'when_idle' | 'lifted') => run(`Lockout of ${resource}: ${lockoutWords(state)}`, () =>
    signAndSubmit(key, site.site, 'resource.lockout', { resource, state, by: null, reason: 'set from the dashboard' }, [`lockout/${resource}`]));

  return (
    <section>
      <OutcomeLine outcome={outcome} />
      <ul class="cards">
        {nodes.map((n) => {
          const status = live.statuses.get(n.node);
          const online = status ? status.online : n.online === true;
          return (
            <li key={n.node} data-node-row={n.name} class={online ? 'online' : 'offline'}>
              <h3>{n.name} <small>{n.role}</small></h3>
              <p>{online ? 'online' : 'offline'}{n.lastSeen ? ` · last seen ${localTime(n.lastSeen)}` : ''} · feed seq {n.head}</p>
              <p class="meta">key {short(n.node)}{status ? ` · ${Object.entries(status.versions).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}</p>
              {n.role === 'edge' && n.resources.map((r) => {
                const res = data.resources.find((x) => x.resource === r);
                return (
                  <div class="actions" key={r} data-resource={r}>
                    <span>{res?.name ?? r}{res?.kind === 'machine' ? ` (${lockoutWords(res.lockout)})` : ''}</span>
                    {res?.kind === 'door' && <button type="button" disabled={busy || !online} onClick={() => void unlock(n.node, r)}>Unlock now</button>}
                    {res?.kind === 'machine' && <>
                      <button type="button" disabled={busy} onClick={() => void lockout(r, 'now')}>Lock out now</button>
                      <button type="button" disabled={busy} onClick={() => void lockout(r, 'when_idle')}>Lock out when idle</button>
                      <button type="button" disabled={busy || res.lockout === 'lifted'} onClick={() => void lockout(r, 'lifted')}>Lift lockout</button>
                    </>}
                  </div>
                );
              })}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
