/**
 * The coordinator's HTTP API as the page uses it (same origin: the coordinator serves the page).
 * Every answer is read as untrusted: the page signs nothing on a value it has not checked
 * (heads are verified by nextEntry before a signature is made).
 */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}

async function answer<T>(res: Response, what: string): Promise<T> {
  let json: unknown = null;
  try {
    json = await res.json();
  } catch {
    /* not JSON: reported below */
  }
  if (res.ok) return json as T;
  const err = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = typeof err?.code === 'string' ? err.code : `HTTP_${res.status}`;
  const message = typeof err?.message === 'string' ? err.message : `${what} answered ${res.status}`;
  throw new ApiError(res.status, code, message, (json ?? {}) as Record<string, unknown>);
}

export async function get<T>(path: string): Promise<T> {
  return answer<T>(await fetch(path, { headers: { accept: 'application/json' } }), `GET ${path}`);
}

/** GET that answers null for a 404 (a feed with no entry yet, a policy key never set). */
export async function getOrNull<T>(path: string): Promise<T | null> {
  try {
    return await get<T>(path);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

export async function post<T>(path: string, body: unknown): Promise<T> {
  return answer<T>(await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }), `POST ${path}`);
}

export interface SiteInfo { site: string; name: string; coordinator: string; now: number }
export interface NodeInfo { node: string; name: string; role: 'edge' | 'coordinator'; resources: string[]; retired?: boolean; head: number; online: boolean | null; lastSeen: number | null }
export interface ResourceInfo { resource: string; name: string; kind: 'door' | 'machine'; requiredCerts: string[]; lockout: 'now' | 'when_idle' | 'lifted' }
export interface MemberInfo { member: string; name: string; contact: string; status: 'active' | 'suspended'; validUntil: number | null; keys: Record<string, number | null>; trainerFor: Record<string, Record<string, number> | null> }
export interface LogRow { author: string; seq: number; hash: string; type: string; resource: string; member: string | null; at: number; allow: boolean | null; detail: Record<string, unknown> }

export const api = {
  site: () => get<SiteInfo>('/api/site'),
  nodes: async () => (await get<{ nodes: NodeInfo[] }>('/api/nodes')).nodes,
  resources: async () => (await get<{ resources: ResourceInfo[] }>('/api/resources')).resources,
  members: async () => (await get<{ members: MemberInfo[] }>('/api/members')).members,
  log: (before?: string) => get<{ rows: LogRow[]; next: string | null }>(`/api/log?limit=50${before ? `&before=${encodeURIComponent(before)}` : ''}`),
  head: (author: string) => getOrNull<{ author: string; seq: number; hash: string; line: string }>(`/api/feeds/${author}/head`),
  policy: <V>(key: string) => getOrNull<{ key: string; value: V; heads: string[] }>(`/api/policy/${encodeURIComponent(key)}`),
};
