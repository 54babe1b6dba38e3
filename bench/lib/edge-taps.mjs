// The taps of the edge suite (bench/suites/edge.mjs), for one agent: which card each tap
// presents, what it should get, the real gap before it (ms, 0 = the next turn of the event loop)
// and the reader's timestamp, which advances 2-5 s a tap so the tap filter sees taps spaced as
// people tap (no read is a repeat of the one before; unknown cards stay within the filter's
// default budget of one per 10 s after a burst of 5).
//   door:    80 % allowed (relay: unlock), 10 % unknown card, 10 % suspended member (red LED)
//   machine: cycles of a tap in (relay on), two refused taps (half not certified for the laser,
//            a quarter unknown, a quarter suspended; red LED), the same card tapping out (relay off)
import { GROUPS } from './edge-site.mjs';

/** A deterministic generator (mulberry32), so each run taps the same cards. */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The output each kind of tap moves first, and the reasons decide() gives it. */
export const EXPECT = {
  allowed: { output: 'relay', reasons: ['ALLOWED'] },
  tap_out: { output: 'relay', reasons: [] }, // ended before any decision
  unknown: { output: 'redLed', reasons: ['UNKNOWN_CARD'] },
  suspended: { output: 'redLed', reasons: ['MEMBER_SUSPENDED'] },
  not_certified: { output: 'redLed', reasons: ['NOT_CERTIFIED'] },
};

/** `n` taps for a node of `kind`: [{ label, kind, gapMs, stepMs }]. */
export function tapPlan(kind, n, seed = 1) {
  const r = rng(seed);
  const pick = ([a, b]) => a + Math.floor(r() * (b - a));
  const allowedMember = () => pick(GROUPS.allowed);
  let unknown = 0;
  const refused = (door) => {
    const x = r();
    if (door ? x < 0.5 : x < 0.25) return { label: `ee${String(seed).padStart(2, '0')}${String(unknown++).padStart(6, '0')}`, kind: 'unknown' };
    if (door || x < 0.5) return { label: `c${pick(GROUPS.suspended)}`, kind: 'suspended' };
    return { label: `c${pick(GROUPS.notCertified)}`, kind: 'not_certified' };
  };
  const out = [];
  const timing = () => {
    const g = r();
    // Mean about 1.4 ms: a quarter on the next turn, the rest 1-3 ms later (timers).
    return { gapMs: g < 0.25 ? 0 : 1 + Math.floor(r() * 3), stepMs: 2000 + Math.floor(r() * 3000) };
  };
  let last = '';
  while (out.length < n) {
    if (kind === 'door') {
      let t = r() < 0.8 ? { label: `c${allowedMember()}`, kind: 'allowed' } : refused(true);
      while (t.label === last) t = { label: `c${allowedMember()}`, kind: 'allowed' };
      out.push({ ...t, ...timing() });
      last = t.label;
    } else {
      const member = `c${allowedMember()}`;
      out.push({ label: member, kind: 'allowed', ...timing() });
      for (let d = 0; d < 2 && out.length < n; d++) out.push({ ...refused(false), ...timing() });
      if (out.length < n) out.push({ label: member, kind: 'tap_out', ...timing() });
    }
  }
  return out.slice(0, n);
}

/** The q-quantile of `xs` (nearest rank). */
export function quantile(xs, q) {
  const s = Float64Array.from(xs).sort();
  return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : NaN;
}
