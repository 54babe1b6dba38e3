/** What every view reads: the signed-in key, the live bus view and the API's lists, refreshed every few seconds. */
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { KeyPair } from '@keymesh/protocol';
import { api, type MemberInfo, type NodeInfo, type ResourceInfo, type SiteInfo } from './api.js';
import type { Live } from './live.js';

export interface Session {
  site: SiteInfo;
  /** The key the page signs with: this browser's own, or the operator's imported key file (until it has added this browser's). */
  key: KeyPair;
  kind: 'page' | 'operator' | 'demo';
  keyLabel: string;
  /** This browser's own key (IndexedDB). */
  page: KeyPair;
  live: Live;
}

export interface SiteData {
  nodes: NodeInfo[];
  resources: ResourceInfo[];
  members: MemberInfo[];
  error: string | null;
  refresh(): Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);
export const DataContext = createContext<SiteData | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('no session');
  return s;
}

export function useData(): SiteData {
  const d = useContext(DataContext);
  if (!d) throw new Error('no data');
  return d;
}

/** Re-renders on every change of the live view (and once a second, for ages and durations). */
export function useLive(live: Live): void {
  const [, tick] = useState(0);
  useEffect(() => {
    const off = live.onChange(() => tick((n) => n + 1));
    const timer = setInterval(() => tick((n) => n + 1), 1000);
    return () => {
      off();
      clearInterval(timer);
    };
  }, [live]);
}

const EVERY_MS = 3000;

export function useSiteData(): SiteData {
  const [state, setState] = useState<Omit<SiteData, 'refresh'>>({ nodes: [], resources: [], members: [], error: null });
  const refresh = async () => {
    try {
      const [nodes, resources, members] = await Promise.all([api.nodes(), api.resources(), api.members()]);
      setState({ nodes, resources, members, error: null });
    } catch (e) {
      setState((s) => ({ ...s, error: `the coordinator's API did not answer (${(e as Error).message}); retrying` }));
    }
  };
  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), EVERY_MS);
    return () => clearInterval(timer);
  }, []);
  return { ...state, refresh };
}
