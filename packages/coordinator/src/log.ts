/**
 * The coordinator's log: pino, one JSON line per event on stdout (journald keeps it under
 * systemd). Secrets never reach it: fields that could hold one are redacted by name, and card
 * uids are never handed to it at all (only references, DESIGN §3).
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const REDACT = ['password', 'seed', 'cardKey', 'secret', 'token', '*.password', '*.seed', '*.cardKey', '*.secret', '*.token', 'req.headers.authorization'];

export function createLogger(o: { level?: string; destination?: NodeJS.WritableStream | number } = {}): Logger {
  const level = o.level ?? process.env.KEYMESH_LOG_LEVEL ?? 'info';
  const dest = typeof o.destination === 'object' ? o.destination : pino.destination({ dest: o.destination ?? 1, sync: false });
  return pino({ level, base: { svc: 'keymesh' }, redact: { paths: REDACT, censor: '[redacted]' } }, dest);
}
