/**
 * Certifications and trainers: per certification, the machines that require it and who may
 * train for it. A trainer scope is part of the member's record, so adding or removing one is a
 * `member.put` signed in the page (as `keymesh trainer add|remove`): a scope removed is
 * withdrawn at each of the trainer's keys' heads now, so what they certified before keeps
 * counting and nothing they sign later does.
 */
import { useState } from 'preact/hooks';
import type { MemberInfo } from '../api.js';
import { checkMember, currentMember, positionsNow } from '../member-body.js';
import { useData, useSession } from '../session.js';
import { signAndSubmit, type SignResult } from '../sign.js';
import { OutcomeLine, useAction } from './action.js';

const isTrainer = (m: MemberInfo, cert: string) => Object.hasOwn(m.trainerFor, cert) && m.trainerFor[cert] === null;

export function Trainers() {
  const { key, site } = useSession();
  const data = useData();
  const { busy, outcome, run } = useAction(data.refresh);
  const [pick, setPick] = useState<Record<string, string>>({});
  const certs = [...new Set(data.resources.flatMap((r) => r.requiredCerts))].sort();
  const setScope = (member: string, cert: string, on: boolean) =>
    run(on ? `Letting ${member} train for ${cert}` : `Withdrawing ${member}'s training for ${cert}`, async (): Promise<SignResult> => {
      const cur = await currentMember(member);
      if (!cur) return { ok: false, code: 'NOT_FOUND', message: `the coordinator holds no member "${member}"; nothing was signed` };
      const now = cur.trainerFor.find((t) => t.cert === cert);
      if (on && now?.until === null) return { ok: false, code: 'ALREADY', message: `${cur.name} already trains for ${cert}; nothing was signed` };
      if (!on && now?.until !== null) return { ok: false, code: 'NOT_TRAINER', message: `${cur.name} does not train for ${cert} now; nothing was signed` };
      const until = on ? null : await positionsNow(cur.keys);
      const checked = checkMember({ ...cur, trainerFor: [...cur.trainerFor.filter((t) => t.cert !== cert), { cert, until }] });
      if (!checked.ok) return checked;
      return signAndSubmit(key, site.site, 'member.put', checked.body, [`member/${member}`]);
    });
  return (
    <section>
      <p class="meta">A trainer certifies others for a machine at its panel or with their own key. Grant or revoke a member's certification in Members → Details.</p>
      <OutcomeLine outcome={outcome} />
      {certs.length === 0 ? <p class="empty">No resource requires a certification yet (keymesh resource add … --cert).</p> : (
        <ul class="cards">
          {certs.map((cert) => {
            const machines = data.resources.filter((r) => r.requiredCerts.includes(cert)).map((r) => r.name);
            const trainers = data.members.filter((m) => isTrainer(m, cert));
            const others = data.members.filter((m) => !isTrainer(m, cert) && m.status === 'active');
            const chosen = pick[cert] ?? '';
            return (
              <li key={cert} data-cert={cert}>
                <h3>{cert}</h3>
                <p class="meta">Required by {machines.join(', ')}</p>
                {trainers.length === 0 ? <p class="empty">No trainer.</p> : (
                  <ul data-field="trainers">{trainers.map((m) => (
                    <li key={m.member} data-trainer={m.member}>{m.name}{' '}
                      <button type="button" disabled={busy} onClick={() => void setScope(m.member, cert, false)}>Remove</button>
                    </li>
                  ))}</ul>
                )}
                {others.length > 0 && (
                  <p class="pick">
                    <label>Add a trainer <select data-field="add-trainer" onChange={(e) => setPick({ ...pick, [cert]: (e.target as HTMLSelectElement).value })}>
                      {/* `selected` per option: a select whose chosen option left the list keeps no value to compare */}
                      <option value="" selected={chosen === ''}>choose a member…</option>
                      {others.map((m) => <option key={m.member} value={m.member} selected={m.member === chosen}>{m.name}</option>)}
                    </select></label>
                    <button type="button" data-action="add-trainer" disabled={busy || !chosen} onClick={() => void setScope(chosen, cert, true).then(() => setPick((p) => ({ ...p, [cert]: '' })))}>Add</button>
                  </p>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
