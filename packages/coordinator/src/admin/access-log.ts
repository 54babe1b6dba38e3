/**
 * Reading the access log for `keymesh log`: through the server's API when one runs, else the
 * ledger file opened read-only (never a writer). One line per event in the operator's time
 * zone, reasons in words (the protocol's sentence for each decision code).
 */
import { DECISION_REASONS, type DecisionReason } from '@keymesh/protocol';
import { Ledger, type AccessLogQuery, type AccessLogRow } from '@keymesh/ledger';

export type LogQuery = Pick<AccessLogQuery, 'member' | 'resource' | 'limit' | 'before' | 'from'>;

export interface LogSource {
  readonly where: string;
  page(q: LogQuery): Promise<{ rows: AccessLogRow[]; next: string | null }>;
  close(): Promise<void>;
}

/** What the server side needs of the HTTP client. */
export interface LogApi {
  log(q: LogQuery): Promise<{ rows: AccessLogRow[]; next: string | null }>;
}

export function serverLog(api: LogApi, url: string): LogSource {
  return { where: url, page: (q) => api.log(q), close: async () => {} };
}

export function ledgerLog(path: string, site: string): LogSource {
  const ledger = Ledger.open(path, { site, readonly: true });
  return {
    where: path,
    page: async (q) => ledger.accessLog(q),
    close: async () => ledger.close(),
  };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `2026-11-30 14:05:09` in the local time zone. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** What happened, in words: a decision's reason, a door's event, a machine session's start or end. */
export function describeRow(r: AccessLogRow): { outcome: string; words: string } {
  const d = r.detail as Record<string, unknown>;
  if (r.type === 'access.decision') {
    const code = String(d.reason);
    const words = Object.hasOwn(DECISION_REASONS, code) ? DECISION_REASONS[code as DecisionReason] : code;
    const card = (d.credential as { card?: string } | undefined)?.card;
    return { outcome: r.allow ? 'allow' : 'deny', words: r.member === null && card ? `${words} (card ${card})` : words };
  }
  if (r.type === 'door.event') {
    const cause = d.cause as { kind?: string; command?: string; issuer?: string } | null | undefined;
    const by = !cause ? '' : cause.kind === 'command' ? ` by command ${String(cause.command).slice(0, 8)}… of admin ${String(cause.issuer).slice(0, 12)}…` : cause.kind === 'exit_button' ? ' by the exit button' : cause.kind === 'tap' ? ' by a tap' : '';
    return { outcome: 'door', words: `${String(d.event).replace('_', ' ')}${by}` };
  }
  if (r.type === 'machine.session') {
    const end = d.event === 'end' ? `ended (${String(d.endReason ?? '').replace('_', ' ')}${typeof d.seconds === 'number' ? `, ${d.seconds} s` : ''})` : 'started';
    return { outcome: 'session', words: `session ${end}` };
  }
  return { outcome: r.type, words: '' };
}

export function formatRow(r: AccessLogRow): string {
  const { outcome, words } = describeRow(r);
  return `${localTime(r.at)}  ${(r.member ?? '-').padEnd(14)} ${r.resource.padEnd(14)} ${outcome.padEnd(7)} ${words}`;
}

/**
 * Prints new events as they arrive, oldest first, polling each `everyMs` until `signal` aborts.
 * An event is new when its hash was not printed; the newest page is read each time (a node that
 * was offline may deliver older events later: those are printed when they arrive, if they fall
 * within the page).
 */
export async function follow(src: LogSource, q: LogQuery, print: (rows: AccessLogRow[]) => Promise<void>, signal: AbortSignal, everyMs = 1000): Promise<void> {
  const seen = new Set<string>();
  const limit = Math.max(q.limit ?? 50, 50);
  let first = true;
  while (!signal.aborted) {
    const { rows } = await src.page({ member: q.member, resource: q.resource, limit });
    const fresh = rows.filter((r) => !seen.has(r.hash)).reverse();
    for (const r of fresh) seen.add(r.hash);
    // The first page is the recent history, as without --follow: at most the limit asked.
    await print(first ? fresh.slice(-(q.limit ?? 20)) : fresh);
    first = false;
    if (seen.size > 100_000) for (const h of [...seen].slice(0, 50_000)) seen.delete(h);
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, everyMs);
      function done() {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
