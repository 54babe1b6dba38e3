// The LCD lines: what a 16x2 and a 20x4 show in each situation, always exactly the display's size.
import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { lcdLines, lcdText, LCD_RECENT_MS } from './lcd-lines.js';
import type { PanelSnapshot } from './model.js';
import { clockDuration, humanDuration, nameWords, shortReason } from './words.js';
import { DECISION_REASONS } from '@keymesh/protocol';

const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);

function snap(patch: Partial<PanelSnapshot> = {}): PanelSnapshot {
  return {
    node: { name: 'laser-pi', key: '0123456789abcdef', kind: 'machine', resource: { id: 'laser', name: 'Laser' } },
    state: 'idle',
    member: null,
    sessionStartedAt: null,
    lastDecision: null,
    lastMessage: null,
    rulesAgeMs: 0,
    rulesFreshAt: NOW - 120_000,
    rulesStale: false,
    online: true,
    alarms: [],
    sim: null,
    ...patch,
  };
}

const small = { columns: 16, rows: 2 };
const big = { columns: 20, rows: 4 };
const trimmed = (lines: string[]) => lines.map((l) => l.trimEnd());

const inUse = { state: 'in_use' as const, member: { id: 'm-ada', name: 'Ada' }, sessionStartedAt: NOW - (12 * 60 + 3) * 1000 };
const denied = (at: number) => ({ lastDecision: { at, allow: false, reason: 'NOT_CERTIFIED' as const, message: 'not certified', member: 'Bob' } });

describe('lcdLines on a 16x2', () => {
  it('idle: the resource and a prompt', () => {
    expect(trimmed(lcdLines(snap(), small, NOW))).toEqual(['Laser: free', 'tap badge']);
  });

  it('in use: the member and the session timer', () => {
    expect(lcdLines(snap(inUse), small, NOW)).toEqual(['Laser: in use   ', 'Ada        12:03']);
  });

  it('a fresh denial shows its reason, then the line goes back to the session', () => {
    const s = snap({ ...inUse, ...denied(NOW - 1000) });
    expect(trimmed(lcdLines(s, small, NOW))).toEqual(['Laser: in use', 'DENIED: not cert']);
    expect(trimmed(lcdLines(s, small, NOW - 1000 + LCD_RECENT_MS)).at(1)).toBe('Ada        12:10');
  });

  it('a fresh allow greets the member', () => {
    const s = snap({ ...inUse, lastDecision: { at: NOW, allow: true, reason: 'ALLOWED', message: 'allowed', member: 'Ada' } });
    expect(trimmed(lcdLines(s, small, NOW))[1]).toBe('OK: Ada');
  });

  it('a message newer than the decision wins', () => {
    const s = snap({ ...denied(NOW - 2000), lastMessage: { text: 'Trainee: tap now', tone: 'info', at: NOW - 1000 } });
    expect(trimmed(lcdLines(s, small, NOW))[1]).toBe('Trainee: tap now');
  });

  it('an alarm comes before the session', () => {
    expect(trimmed(lcdLines(snap({ ...inUse, alarms: ['e-stop pressed'] }), small, NOW))[1]).toBe('! e-stop pressed');
  });

  it('offline or stale rules when nothing else is to say', () => {
    expect(trimmed(lcdLines(snap({ online: false }), small, NOW))[1]).toBe('offline');
    expect(trimmed(lcdLines(snap({ rulesStale: true }), small, NOW))[1]).toBe('rules stale');
  });

  it('a long resource name is cut, the state stays whole', () => {
    const s = snap({ ...inUse, node: { ...snap().node, resource: { id: 'laser', name: 'Laser cutter (big room)' } } });
    expect(lcdLines(s, small, NOW)[0]).toBe('Laser cu: in use');
  });

  it('a long member name is cut, the timer stays whole', () => {
    const s = snap({ ...inUse, member: { id: 'm', name: 'Augusta Ada King, Countess of Lovelace' }, sessionStartedAt: NOW - 3_723_000 });
    expect(lcdLines(s, small, NOW)[1]).toBe('Augusta  1:02:03');
  });

  it('a door: locked, unlocked for a member, forced open', () => {
    const door = { ...snap().node, kind: 'door' as const, resource: { id: 'front', name: 'Front door' } };
    expect(trimmed(lcdLines(snap({ node: door, state: 'locked' }), small, NOW))[0]).toBe('Front do: locked');
    expect(trimmed(lcdLines(snap({ node: door, state: 'unlocked', member: { id: 'm', name: 'Ada' } }), small, NOW))).toEqual(['Front: unlocked', 'Ada']);
    expect(trimmed(lcdLines(snap({ node: door, state: 'forced', alarms: ['door forced open'] }), small, NOW))).toEqual(['Fro: forced open', '! door forced op']);
  });
});

describe('lcdLines on a 20x4', () => {
  it('title, session, event, network and rules', () => {
    const s = snap({ ...inUse, ...denied(NOW - 500), node: { ...snap().node, resource: { id: 'laser', name: 'Laser cutter' } } });
    expect(lcdLines(s, big, NOW)).toEqual(['Laser cutter: in use', 'Ada            12:03', 'DENIED: not cert    ', 'online   rules 2 min']);
  });

  it('idle and offline with stale rules', () => {
    expect(trimmed(lcdLines(snap({ online: false, rulesStale: true }), big, NOW))).toEqual(['Laser: free', 'tap badge', '', 'OFFLINE  rules stale']);
  });

  it('never synced, and locked out with its alarm', () => {
    const s = snap({ state: 'locked_out', rulesFreshAt: null, alarms: ['e-stop pressed'] });
    expect(trimmed(lcdLines(s, big, NOW))).toEqual(['Laser: locked out', 'out of use', '! e-stop pressed', 'online  never synced']);
  });
});

describe('lcdText and the size contract', () => {
  it('drops accents and shows anything else outside ASCII as one "?"', () => {
    expect(lcdText('Zoë Ångström 🔧\tx')).toBe('Zoe Angstrom ??x');
  });

  it('every display size gets exactly its rows and columns, whatever the snapshot holds', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 40 });
    fc.assert(
      fc.property(
        fc.record({ columns: fc.integer({ min: 1, max: 40 }), rows: fc.integer({ min: 1, max: 6 }) }),
        text,
        text,
        fc.option(text, { nil: null }),
        fc.array(text, { maxLength: 3 }),
        fc.constantFrom(...(['locked', 'unlocked', 'open', 'held_open', 'forced', 'idle', 'in_use', 'locked_out'] as const)),
        fc.constantFrom(...(Object.keys(DECISION_REASONS) as Array<keyof typeof DECISION_REASONS>)),
        (size, resource, member, message, alarms, state, reason) => {
          const s = snap({
            state,
            node: { ...snap().node, resource: { id: 'r', name: resource } },
            member: { id: 'm', name: member },
            sessionStartedAt: NOW - 5000,
            lastDecision: { at: NOW, allow: false, reason, message: 'x', member },
            lastMessage: message === null ? null : { text: message, tone: 'info', at: NOW },
            alarms,
          });
          const lines = lcdLines(s, size, NOW);
          expect(lines).toHaveLength(size.rows);
          for (const l of lines) expect(l).toMatch(new RegExp(`^[\\x20-\\x7e]{${size.columns}}$`));
        },
      ),
    );
  });
});

describe('words', () => {
  it('durations as people say them, and as a timer', () => {
    expect([0, 12_000, 180_000, 3_900_000, 3 * 86_400_000].map(humanDuration)).toEqual(['0 s', '12 s', '3 min', '1 h 05 min', '3 days']);
    expect([-5, 7_000, 247_000, 3_723_000].map(clockDuration)).toEqual(['0:00', '0:07', '4:07', '1:02:03']);
  });

  it('every decision reason has a short form that fits "DENIED: " on 20 columns', () => {
    for (const r of Object.keys(DECISION_REASONS)) expect(shortReason(r).length).toBeLessThanOrEqual(12);
  });

  it('config names as words', () => {
    expect(['doorSensor', 'exit_button', 'e-stop'].map(nameWords)).toEqual(['door sensor', 'exit button', 'e stop']);
  });
});
