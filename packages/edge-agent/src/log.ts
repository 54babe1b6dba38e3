/**
 * The agent's log: pino, one JSON line per event on stdout (journald keeps it, volatile, under
 * systemd). Card uids are never handed to it (only references, DESIGN §3); fields that could
 * hold a secret are redacted by name as a second wall.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT = ['password', 'seed', 'cardKey', 'uid', 'secret', 'token', '*.password', '*.seed', '*.cardKey', '*.uid', '*.secret', '*.token'];

export function createLogger(o: { level?: string; destination?: NodeJS.WritableStream | number } = {}): Logger {
  const level = o.level ?? process.env.KEYMESH_LOG_LEVEL ?? 'info';
  const dest = typeof o.destination === 'object' ? o.destination : pino.destination({ dest: o.destination ?? 1, sync: false });
  return pino({ level, base: { svc: 'keymesh-edge' }, redact: { paths: REDACT, censor: '[redacted]' } }, dest);
}
