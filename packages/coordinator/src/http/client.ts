/**
 * A small typed client of the coordinator's HTTP API, over the global `fetch`, for the CLI's
 * admin commands. A server that does not answer is SERVER_UNREACHABLE; an answer that is an
 * error is API_ERROR with the server's code and message, except where the caller expects one:
 * `head` and `policy` answer null on 404, `postEntry` and `postCommand` return the refusal.
 */
import type { Command } from '@keymesh/protocol';
import type { AccessLogRow } from '@keymesh/ledger';
import { CoordinatorError } from '../errors.js';
import type { StatusReport } from './routes/status.js';

export interface SiteInfo {
  site: string;
  name: string;
  coordinator: string;
  now: number;
}

export interface FeedHeadInfo {
  author: string;
  seq: number;
  hash: string;
  /** The head entry's canonical line. */
  line: string;
}

export interface PolicyInfo {
  key: string;
  value: unknown;
  heads: string[];
}

export type PostEntryResult =
  | { ok: true; seq: number; hash: string }
  /** `code` STALE_HEAD (409) carries `head`: what the server holds (null: nothing of that author). */
  | { ok: false; status: number; code: string; message: string; head?: FeedHeadInfo | null };

export type PostCommandResult =
  | { ok: true; id: string; node: string; expiresAt: number }
  | { ok: false; status: number; code: string; message: string };

export interface LogQueryParams {
  member?: string;
  resource?: string;
  allow?: boolean;
  from?: number;
  to?: number;
  before?: string;
  limit?: number;
}

export interface ApiClientOptions {
  /** Per request, ms (default 10,000). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

export class ApiClient {
  readonly base: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  /** `base`: the server's address, `http://127.0.0.1:8080`. */
  constructor(base: string, o: ApiClientOptions = {}) {
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      throw new CoordinatorError('BAD_CONFIG', `"${base}" is not a server address; give one like http://127.0.0.1:8080`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CoordinatorError('BAD_CONFIG', `"${base}" is not an http(s) address; give one like http://127.0.0.1:8080`);
    this.base = url.origin + url.pathname.replace(/\/+$/, '');
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.fetch = o.fetch ?? globalThis.fetch;
  }

  site(): Promise<SiteInfo> {
    return this.get<SiteInfo>('/api/site');
  }

  /** The signed head of `author`'s feed, or null when the server holds none of it. */
  async head(author: string): Promise<FeedHeadInfo | null> {
    const a = await this.request('GET', `/api/feeds/${encodeURIComponent(author)}/head`);
    if (a.status === 404 && errorOf(a).code === 'NOT_FOUND') return null;
    return this.expect<FeedHeadInfo>(a, 200);
  }

  /** One policy register with its heads (`member/m1`), or null when the site has no such key. */
  async policy(key: string): Promise<PolicyInfo | null> {
    const a = await this.request('GET', `/api/policy/${encodeURIComponent(key)}`);
    if (a.status === 404 && errorOf(a).code === 'NOT_FOUND') return null;
    return this.expect<PolicyInfo>(a, 200);
  }

  /** Offers a signed entry's canonical line for relay (compare-and-set on its author's head). */
  async postEntry(line: string): Promise<PostEntryResult> {
    const a = await this.request('POST', '/api/entries', { entry: line });
    if (a.status === 201) return { ok: true, seq: Number(a.body.seq), hash: String(a.body.hash) };
    const e = errorOf(a);
    const head = a.body.head === undefined ? {} : { head: (a.body.head as FeedHeadInfo | null) };
    return { ok: false, status: a.status, code: e.code, message: e.message, ...head };
  }

  /** Hands a signed command to the server, which checks it and publishes it to its node. */
  async postCommand(cmd: Command): Promise<PostCommandResult> {
    const a = await this.request('POST', '/api/commands', { command: cmd });
    if (a.status === 202) return { ok: true, id: String(a.body.id), node: String(a.body.node), expiresAt: Number(a.body.expiresAt) };
    const e = errorOf(a);
    return { ok: false, status: a.status, code: e.code, message: e.message };
  }

  /** One page of the access log, newest first; pass `next` as `before` for the following page. */
  log(q: LogQueryParams = {}): Promise<{ rows: AccessLogRow[]; next: string | null }> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return this.get(`/api/log${qs ? `?${qs}` : ''}`);
  }

  status(): Promise<StatusReport> {
    return this.get<StatusReport>('/api/status');
  }

  private async get<T>(path: string): Promise<T> {
    return this.expect<T>(await this.request('GET', path), 200);
  }

  private expect<T>(a: Answer, status: number): T {
    if (a.status === status) return a.body as T;
    const e = errorOf(a);
    throw new CoordinatorError('API_ERROR', `${this.base} answered ${a.status} ${e.code}: ${e.message}`, { status: a.status, code: e.code });
  }

  private async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
    let res: Response;
    try {
      res = await this.fetch(this.base + path, {
        method,
        headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new CoordinatorError('SERVER_UNREACHABLE', `${this.base} did not answer ${method} ${path} (${cause}); check that \`keymesh serve\` runs there, or pass the right --server address`, { cause: String(cause) });
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new CoordinatorError('SERVER_UNREACHABLE', `${this.base} broke off its answer to ${method} ${path} (${(err as Error).message}); try again`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new CoordinatorError('API_ERROR', `${this.base} answered ${method} ${path} with ${res.status} and no JSON: is that address a Keymesh coordinator (and not a proxy's error page)?`, { status: res.status });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new CoordinatorError('API_ERROR', `${this.base} answered ${method} ${path} with JSON that is not an object: is that address a Keymesh coordinator?`, { status: res.status });
    }
    return { status: res.status, body: parsed as Record<string, unknown> };
  }
}

/** The `{ error: { code, message } }` of an answer (or a stand-in naming the status). */
function errorOf(a: Answer): { code: string; message: string } {
  const e = a.body.error as { code?: unknown; message?: unknown } | undefined;
  return {
    code: typeof e?.code === 'string' ? e.code : `HTTP_${a.status}`,
    message: typeof e?.message === 'string' ? e.message : `the server answered ${a.status}`,
  };
}
