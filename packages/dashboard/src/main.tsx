/**
 * The dashboard's shell: sign in with the operator's key file, then the views (Floor, Live log,
 * Members, Nodes) over one live MQTT connection and the coordinator's API.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { KeyPair } from '@keymesh/protocol';
import { api } from './api.js';
import { importKeyFile, pageKey } from './keys.js';
import { Live } from './live.js';
import { short } from './format.js';
import { DataContext, SessionContext, useLive, useSiteData, type Session } from './session.js';
import { Floor } from './views/floor.js';
import { LiveLog } from './views/log.js';
import { Members } from './views/members.js';
import { Nodes } from './views/nodes.js';

const VIEWS = { floor: ['Floor', Floor], log: ['Live log', LiveLog], members: ['Members', Members], nodes: ['Nodes', Nodes] } as const;
type ViewId = keyof typeof VIEWS;

function SignIn({ onSession }: { onSession: (s: Session) => void }) {
  const [own, setOwn] = useState<KeyPair | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    pageKey().then(setOwn, (e: Error) => setError(`this browser could not keep a key (${e.message})`));
  }, []);
  const onFile = async (e: Event) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (!file) return;
    try {
      const { key, label } = importKeyFile(await file.text());
      const site = await api.site();
      const live = new Live(site.site, key);
      live.connect();
      onSession({ site, key, keyLabel: label, live });
    } catch (err) {
      setError(`that key file was not taken: ${(err as Error).message}`);
    }
  };
  return (
    <main class="signin">
      <h1>Keymesh dashboard</h1>
      <p>Sign in with the operator's daily admin key file (<code>keymesh init</code> wrote it). It stays in this tab's memory only and is never stored by the page.</p>
      <label class="file">Operator's key file <input id="key-file" type="file" accept=".json,.key,application/json" onChange={(e) => void onFile(e)} /></label>
      {error && <p class="error" role="alert">{error}</p>}
      <p class="meta">This browser's own key: <code data-field="page-key">{own ? own.publicKey : '…'}</code>. It is not an admin yet; an admin can add it with <code>keymesh admin add</code>.</p>
    </main>
  );
}

function Shell({ session }: { session: Session }) {
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
          <p class="signer">Signing as <strong>the operator's key</strong> “{session.keyLabel}” ({short(session.key.publicKey)})</p>
        </header>
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
  return session ? <Shell session={session} /> : <SignIn onSession={setSession} />;
}

const root = document.getElementById('app')!;
root.textContent = ''; // the static "Loading…" line: Preact renders beside what it did not make
render(<App />, root);
