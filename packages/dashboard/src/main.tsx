/**
 * The dashboard's shell: sign in with the operator's key file, then the views (Floor, Live log,
 * Members, Nodes) over one live MQTT connection and the coordinator's API.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { KeyPair } from '@keymesh/protocol';
import { api, type SiteInfo } from './api.js';
import { importKeyFile, pageKey } from './keys.js';
import { demoKey, forgetDemoKey, takeDemoKeyFromUrl } from './demo-key.js';
import { addPageKey, isCurrentAdmin } from './admins.js';
import { Live } from './live.js';
import { short } from './format.js';
import { DataContext, SessionContext, useLive, useSiteData, type Session } from './session.js';
import { Floor } from './views/floor.js';
import { LiveLog } from './views/log.js';
import { Members } from './views/members.js';
import { Nodes } from './views/nodes.js';
import { Alarms } from './views/alarms.js';
import { Trainers } from './views/trainers.js';
import { Admins } from './views/admins.js';

const VIEWS = { floor: ['Floor', Floor], log: ['Live log', LiveLog], members: ['Members', Members], nodes: ['Nodes', Nodes], alarms: ['Alarms', Alarms], trainers: ['Trainers', Trainers], admins: ['Admins', Admins] } as const;
type ViewId = keyof typeof VIEWS;

function startSession(site: SiteInfo, key: KeyPair, kind: Session['kind'], keyLabel: string, page: KeyPair): Session {
  const live = new Live(site.site, key);
  live.connect();
  return { site, key, kind, keyLabel, page, live };
}

function SignIn({ onSession }: { onSession: (s: Session) => void }) {
  const [own, setOwn] = useState<{ key: KeyPair; admin: boolean } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    pageKey().then(
      async (key) => {
        setOwn({ key, admin: await isCurrentAdmin(key.publicKey).catch(() => false) });
        // A demo link's key (demo-key.ts) signs in only while it is an admin of this site.
        const demo = demoKey();
        if (!demo) return;
        if (await isCurrentAdmin(demo.publicKey).catch(() => false)) {
          api.site().then((site) => onSession(startSession(site, demo, 'demo', "the demo's key", key)), (e: Error) => setError(`the coordinator did not answer: ${e.message}`));
        } else {
          forgetDemoKey();
          setError("the demo link's key is not an admin of this site; sign in with the operator's key file");
        }
      },
      (e: Error) => setError(`this browser could not keep a key (${e.message})`),
    );
  }, []);
  const withOwn = async () => {
    if (!own) return;
    try {
      onSession(startSession(await api.site(), own.key, 'page', "this browser's key", own.key));
    } catch (err) {
      setError(`the coordinator did not answer: ${(err as Error).message}`);
    }
  };
  const onFile = async (e: Event) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (!file || !own) return;
    try {
      const { key, label } = importKeyFile(await file.text());
      onSession(startSession(await api.site(), key, 'operator', label, own.key));
    } catch (err) {
      setError(`that key file was not taken: ${(err as Error).message}`);
    }
  };
  return (
    <main class="signin">
      <h1>Keymesh dashboard</h1>
      {own?.admin && <p><button type="button" data-action="sign-in-own" onClick={() => void withOwn()}>Sign in with this browser's key</button></p>}
      <p>{own?.admin ? 'Or sign' : 'Sign'} in with the operator's daily admin key file (<code>keymesh init</code> wrote it), once: it adds this browser's own key to the admin set, then the page signs with its own key. The file stays in this tab's memory only and is never stored by the page.</p>
      <label class="file">Operator's key file <input id="key-file" type="file" accept=".json,.key,application/json" disabled={!own} onChange={(e) => void onFile(e)} /></label>
      {error && <p class="error" role="alert">{error}</p>}
      <p class="meta">This browser's own key: <code data-field="page-key">{own ? own.key.publicKey : '…'}</code>{own ? (own.admin ? ' (an admin)' : " (not an admin yet: an admin can paste it in their dashboard's Admins view, or sign in below)") : ''}.</p>
    </main>
  );
}

/** Signed in with the operator's key: add this browser's key to the admin set, then sign with it. */
function AdoptPageKey({ session, onSession }: { session: Session; onSession: (s: Session) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const adopt = async () => {
    setBusy(true);
    setError(null);
    const r = await addPageKey(session.key, session.page, session.site.site).catch((e: Error) => ({ ok: false as const, code: 'ERROR', message: e.message }));
    setBusy(false);
    if (!r.ok && r.code !== 'ALREADY_ADMIN') {
      setError(`this browser's key was not added (${r.code}): ${r.message}`);
      return;
    }
    session.live.close();
    onSession(startSession(session.site, session.page, 'page', "this browser's key", session.page));
  };
  return (
    <div class="banner" role="region" aria-label="this browser's key">
      <p>You are signing with the operator's key file. Add this browser's own key ({short(session.page.publicKey)}) to the admin set, and the page signs with it from then on.</p>
      <button type="button" data-action="adopt-page-key" disabled={busy} onClick={() => void adopt()}>Add this browser's key to the admins</button>
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}

function Shell({ session, onSession }: { session: Session; onSession: (s: Session) => void }) {
  const data = useSiteData();
  const [view, setView] = useState<ViewId>('floor');
  useLive(session.live);
  const [, View] = VIEWS[view];
  const conn = session.live.conn;
  return (
    <SessionContext.Provider value={session}>
      <DataContext.Provider value={data}>
        <header>
          <h1>{session.site.name}</h1>
          <p class={`conn ${conn}`} data-field="conn">{conn === 'online' ? 'live' : conn === 'connecting' ? 'connecting…' : 'not connected: retrying'}</p>
          <p class="signer" data-field="signer" data-kind={session.kind}>Signing as {session.kind === 'operator' ? <><strong>the operator's key</strong> “{session.keyLabel}”</> : session.kind === 'demo' ? <strong>the demo's key</strong> : <strong>this browser's key</strong>} ({short(session.key.publicKey)})</p>
        </header>
        {session.kind === 'operator' && <AdoptPageKey session={session} onSession={onSession} />}
        <nav>
          {(Object.keys(VIEWS) as ViewId[]).map((id) => (
            <button type="button" key={id} aria-current={view === id ? 'page' : undefined} data-view={id} onClick={() => setView(id)}>{VIEWS[id][0]}</button>
          ))}
        </nav>
        {data.error && <p class="error" role="alert">{data.error}</p>}
        {session.live.error && conn !== 'online' && <p class="error" role="alert">Live connection: {session.live.error}</p>}
        <main><View /></main>
      </DataContext.Provider>
    </SessionContext.Provider>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>(null);
  return session ? <Shell key={session.key.publicKey} session={session} onSession={setSession} /> : <SignIn onSession={setSession} />;
}

takeDemoKeyFromUrl();
const root = document.getElementById('app')!;
root.textContent = ''; // the static "Loading…" line: Preact renders beside what it did not make
render(<App />, root);
