/** A coordinator's pino logger whose JSON lines are kept in an array, for tests that assert what was logged. */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@keymesh/coordinator';

export interface CapturedLog {
  log: Logger;
  lines: Array<Record<string, unknown>>;
  /** Lines whose fields match `fields` (each equal). */
  find(fields: Record<string, unknown>): Array<Record<string, unknown>>;
}

export function capturedLog(level = 'info'): CapturedLog {
  const lines: Array<Record<string, unknown>> = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return {
    log: createLogger({ level, destination: dest }),
    lines,
    find: (fields) => lines.filter((l) => Object.entries(fields).every(([k, v]) => l[k] === v)),
  };
}
