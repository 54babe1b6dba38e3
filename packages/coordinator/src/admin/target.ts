/**
 * Where an admin command's entry goes: the running server's HTTP API when `keymesh serve` runs
 * for this data folder (or `--server URL` names one), else the ledger file itself. Never both:
 * a second writer on the server's file would race its own writes (DESIGN §3, compare-and-set
 * at one place). The two sides answer the same questions, so the commands do not care which.
 */
import type { Command as SignedCommand } from '@keymesh/protocol';
import { Ledger } from '@keymesh/ledger';

/** The signed head of a feed (its newest entry, as the target holds it) and a policy register: the API's shapes. */
export type { FeedHeadInfo as SignedHead, PolicyInfo as PolicyRegister } from '../http/client.js';
import type { FeedHeadInfo as SignedHead, PolicyInfo as PolicyRegister } from '../http/client.js';

export type SubmitOutcome =
  | { ok: true; seq: number; hash: string }
  /** `code` NOT_HEAD / STALE_HEAD: the entry does not extend the author's head there (`head`: what is held, null: nothing). */
  | { ok: false; code: string; message: string; head?: SignedHead | null };

export interface AdminTarget {
  /** 'server' (through the HTTP API at `where`) or 'ledger' (the file at `where`). */
  readonly kind: 'server' | 'ledger';
  readonly where: string;
  head(author: string): Promise<SignedHead | null>;
  policy(key: string): Promise<PolicyRegister | null>;
  submit(line: string): Promise<SubmitOutcome>;
  /** Only through a server: commands go to nodes live, over its broker. */
  command?(cmd: SignedCommand): Promise<{ ok: true } | { ok: false; code: string; message: string }>;
  close(): Promise<void>;
}

/**
 * What the server side needs of the HTTP client (http/client.ts's ApiClient has these). Kept
 * structural so this file states exactly what admin commands rely on.
 */
export interface AdminApi {
  head(author: string): Promise<SignedHead | null>;
  policy(key: string): Promise<PolicyRegister | null>;
  postEntry(line: string): Promise<{ ok: true; seq: number; hash: string } | { ok: false; status: number; code: string; message: string; head?: SignedHead | null }>;
  postCommand(cmd: SignedCommand): Promise<unknown>;
}

export function serverTarget(api: AdminApi, url: string): AdminTarget {
  return {
    kind: 'server',
    where: url,
    head: (author) => api.head(author),
    policy: (key) => api.policy(key),
    async submit(line) {
      const r = await api.postEntry(line);
      if (r.ok) return { ok: true, seq: r.seq, hash: r.hash };
      return { ok: false, code: r.code, message: r.message, head: r.head ?? null };
    },
    async command(cmd) {
      const r = (await api.postCommand(cmd)) as { ok?: boolean; code?: string; message?: string } | undefined;
      if (r && r.ok === false) return { ok: false, code: String(r.code ?? 'API_ERROR'), message: String(r.message ?? 'refused') };
      return { ok: true };
    },
    async close() {},
  };
}

/** The ledger file opened for writing, for as long as one command runs. */
export function ledgerTarget(path: string, site: string): AdminTarget {
  const ledger = Ledger.open(path, { site });
  let closed = false;
  return {
    kind: 'ledger',
    where: path,
    async head(author) {
      const h = ledger.headOf(author);
      return h ? { author, seq: h.seq, hash: h.hash, line: h.line } : null;
    },
    async policy(key) {
      const heads = ledger.policy.headHashes(key);
      if (heads.length === 0) return null;
      return { key, value: ledger.policy.valueOf(key) ?? null, heads };
    },
    async submit(line) {
      const r = ledger.submit(line);
      if (r.ok) return { ok: true, seq: r.entry.seq, hash: r.hash };
      if (r.code === 'NOT_HEAD') return { ok: false, code: r.code, message: r.reason, head: r.head ? { author: r.head.entry.author, seq: r.head.seq, hash: r.head.hash, line: r.head.line } : null };
      return { ok: false, code: r.code, message: r.reason };
    },
    async close() {
      if (!closed) (closed = true), ledger.close();
    },
  };
}
