/**
 * Enrol a card by tapping it: the admin picks a member, taps the new badge at any reader, and
 * the page offers the unknown card it just saw (a decision UNKNOWN_CARD arriving after the
 * admin asked, by its card reference: the uid never reaches the page) to bind with a signed
 * `card.bind` (`deps`: the card register's heads).
 */
import { useState } from 'preact/hooks';
import type { MemberInfo } from '../api.js';
import { signAndSubmit } from '../sign.js';
import { localTime } from '../format.js';
import { useData, useLive, useSession } from '../session.js';

export function EnrolCard({ member, busy, run, onDone }: { member: MemberInfo; busy: boolean; run: (what: string, act: () => ReturnType<typeof signAndSubmit>) => Promise<void>; onDone: () => void }) {
  const { live, key, site } = useSession();
  const data = useData();
  useLive(live);
  // Decisions already shown when the admin asked: only a tap after that is offered.
  const [before] = useState(() => new Set(live.rows.map((r) => r.hash)));
  const seen = live.rows.find((r) => r.live && r.reason === 'UNKNOWN_CARD' && r.card !== null && !before.has(r.hash));
  const where = seen ? data.resources.find((x) => x.resource === seen.resource)?.name ?? seen.resource : '';
  return (
    <div class="enrol" role="region" aria-label={`enrol a card for ${member.name}`}>
      {!seen ? <p>Tap the new badge at any reader now…</p> : (
        <>
          <p>An unknown card was tapped at {where} at {localTime(seen.at)} (reference {seen.card!.slice(0, 8)}…).</p>
          <button type="button" data-action="bind-card" disabled={busy} onClick={() => void run(`Binding the card to ${member.name}`, () => signAndSubmit(key, site.site, 'card.bind', { card: seen.card!, member: member.member }, [`card/${seen.card}`])).then(onDone)}>Bind it to {member.name}</button>
        </>
      )}
      <button type="button" onClick={onDone}>Cancel</button>
    </div>
  );
}

