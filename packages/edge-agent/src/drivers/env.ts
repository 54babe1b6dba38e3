/** What the agent hands a driver when it opens a device. */
export interface DriverEnv {
  log: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  /** ms since the epoch. */
  now: () => number;
}
