/** Times in the viewer's own zone, durations and states in words. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString() : d.toLocaleString();
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} days`;
}

export function stateWords(state: string): string {
  const words: Record<string, string> = {
    locked: 'locked', unlocked: 'unlocked', open: 'open', held_open: 'held open', forced: 'forced open',
    idle: 'idle', in_use: 'in use', locked_out: 'locked out',
  };
  return words[state] ?? state.replace(/_/g, ' ');
}

export function lockoutWords(l: string): string {
  return l === 'now' ? 'locked out' : l === 'when_idle' ? 'lockout pending (when idle)' : 'no lockout';
}

export const short = (key: string) => `${key.slice(0, 12)}…`;
