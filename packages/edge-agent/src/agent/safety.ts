/**
 * Every exit path leaves the outputs safe (DESIGN §9: a relay that flickered at boot opened a
 * front door). Signals stop the agent in order, with the outputs driven safe first; an uncaught
 * error or a rejected promise drives them safe synchronously before anything else, then the
 * process exits with status 1 (systemd restarts it). The `exit` hook is the last word.
 */
import type { Logger } from '../log.js';

export interface Stoppable {
  safe(): void;
  stop(): Promise<void>;
}

/** How long a stop after a fatal error may take before the process exits anyway. */
const FATAL_STOP_MS = 3000;

export interface SafetyOptions {
  /** Runs once when a signal or an error starts the stop (systemd's STOPPING=1). */
  beforeStop?: () => void;
  /** How the process ends (tests pass their own). */
  exit?: (code: number) => void;
}

export function installSafety(agent: Stoppable, log: Logger, o: SafetyOptions = {}): () => void {
  const exit = o.exit ?? ((c: number) => process.exit(c));
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    agent.safe();
    if (stopping) {
      log.warn({ ev: 'signal', signal }, 'second signal: exiting now; outputs safe');
      log.flush?.();
      exit(1);
      return;
    }
    stopping = true;
    o.beforeStop?.();
    log.info({ ev: 'signal', signal }, 'stopping; outputs safe');
    agent.stop().then(() => exit(0), () => exit(1));
  };
  const onFatal = (err: unknown) => {
    agent.safe();
    log.fatal({ ev: 'fatal', err: err instanceof Error ? err.stack ?? err.message : String(err) }, 'uncaught error: outputs driven safe, stopping');
    if (stopping) return;
    stopping = true;
    o.beforeStop?.();
    const t = setTimeout(() => exit(1), FATAL_STOP_MS);
    agent.stop().finally(() => (clearTimeout(t), log.flush?.(), exit(1)));
  };
  const onExit = () => agent.safe();
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  process.on('exit', onExit);
  return () => {
    for (const s of signals) process.off(s, onSignal);
    process.off('uncaughtException', onFatal);
    process.off('unhandledRejection', onFatal);
    process.off('exit', onExit);
  };
}
