// Red team: the panel as a web page elsewhere would attack it. In sim mode POST /api/sim/tap
// opens the (sim) relay: a page on another origin must not reach it, neither by a simple
// cross-site request nor by DNS rebinding (evil.example resolving to 127.0.0.1: same origin
// for the browser, but the Host header still names evil.example). A flood of live views is
// bounded and the panel keeps answering.
import { afterEach, expect, test } from '@jest/globals';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { CardUid } from '@keymesh/protocol';
import type { PanelModel, PanelSnapshot } from './model.js';
import { startPanel, type PanelServer } from './server.js';

const snap: PanelSnapshot = {
  node: { name: 'door-pi', key: '0123456789abcdef', kind: 'door', resource: { id: 'front', name: 'Front door' } },
  state: 'locked', member: null, sessionStartedAt: null, lastDecision: null, lastMessage: null,
  rulesAgeMs: 0, rulesFreshAt: Date.now(), rulesStale: false, online: true, alarms: [],
  sim: { outputs: [{ name: 'relay', on: false }], inputs: [{ name: 'exitButton', active: false }], cards: [{ label: 'Ada', uid: '0a0b0c0d' as CardUid }] },
};

const taps: string[] = [];
const model: PanelModel = {
  snapshot: () => snap,
  subscribe: () => () => undefined,
  sim: {
    tap: (uid) => (taps.push(uid), { ok: true, message: 'allowed: Ada' }),
    setInput: () => true,
  },
};

let panel: PanelServer | undefined;
afterEach(async () => {
  await panel?.close();
  panel = undefined;
  taps.length = 0;
});

function call(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'Content-Type': 'application/json' };
const tapBody = JSON.stringify({ card: 'Ada' });

test('DNS rebinding: a POST whose Host names another site is refused and taps nothing', async () => {
  panel = await startPanel({ model, host: '127.0.0.1', port: 0 });
  const r = await call(panel.port, 'POST', '/api/sim/tap', { ...json, Host: `evil.example:${panel.port}` }, tapBody);
  expect(r.status).toBe(403);
  expect(r.body).toMatch(/Host/);
  expect(taps).toEqual([]);
  // The kiosk's own requests still work.
  expect((await call(panel.port, 'POST', '/api/sim/tap', { ...json, Host: `127.0.0.1:${panel.port}` }, tapBody)).status).toBe(200);
  expect((await call(panel.port, 'POST', '/api/sim/tap', { ...json, Host: `localhost:${panel.port}` }, tapBody)).status).toBe(200);
  expect(taps).toHaveLength(2);
});

test('bound to 0.0.0.0, a POST by the Pi\'s address works, one by a DNS name does not', async () => {
  panel = await startPanel({ model, host: '0.0.0.0', port: 0 });
  expect((await call(panel.port, 'POST', '/api/sim/tap', { ...json, Host: `192.168.1.40:${panel.port}` }, tapBody)).status).toBe(200);
  expect((await call(panel.port, 'POST', '/api/sim/tap', { ...json, Host: `[fe80::1]:${panel.port}` }, tapBody)).status).toBe(200);
  expect((await call(panel.port, 'POST', '/api/sim/tap', { ...json, Host: `attacker.rebind.example:${panel.port}` }, tapBody)).status).toBe(403);
  expect(taps).toHaveLength(2);
});

test('a cross-origin POST (the Origin names another site) is refused even with a good Host', async () => {
  panel = await startPanel({ model, host: '127.0.0.1', port: 0 });
  const host = `127.0.0.1:${panel.port}`;
  const r = await call(panel.port, 'POST', '/api/sim/tap', { ...json, Host: host, Origin: 'http://evil.example' }, tapBody);
  expect(r.status).toBe(403);
  expect((await call(panel.port, 'POST', '/api/sim/input', { ...json, Host: host, Origin: 'null' }, JSON.stringify({ name: 'exitButton', active: true }))).status).toBe(403);
  // A form post (no preflight) is refused for its type.
  expect((await call(panel.port, 'POST', '/api/sim/tap', { 'Content-Type': 'text/plain', Host: host }, tapBody)).status).toBe(415);
  expect(taps).toEqual([]);
  // The panel's own page (same origin) still taps.
  expect((await call(panel.port, 'POST', '/api/sim/tap', { ...json, Host: host, Origin: `http://${host}` }, tapBody)).status).toBe(200);
});

test('a flood of live views is bounded; the panel keeps answering', async () => {
  panel = await startPanel({ model, host: '127.0.0.1', port: 0, maxEventClients: 4, heartbeatMs: 60_000 });
  const port = panel.port;
  const opened: Array<ReturnType<typeof request>> = [];
  const statuses = await Promise.all(Array.from({ length: 12 }, () => new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/events' }, (res) => { resolve(res.statusCode!); res.resume(); });
    req.on('error', reject);
    req.end();
    opened.push(req);
  })));
  expect(statuses.filter((s) => s === 200)).toHaveLength(4);
  expect(statuses.filter((s) => s !== 200).every((s) => s === 503)).toBe(true);
  expect(panel.eventClients()).toBe(4);
  expect((await call(port, 'GET', '/api/status', {})).status).toBe(200);
  for (const r of opened) r.destroy();
});

test('slowloris: one address holding many half-sent requests cannot lock the kiosk out', async () => {
  panel = await startPanel({ model, host: '127.0.0.1', port: 0 });
  const port = panel.port;
  const held: Socket[] = [];
  // 127.0.0.2 is another address on Linux's loopback: the attacker; the kiosk is 127.0.0.1.
  await Promise.all(Array.from({ length: 80 }, () => new Promise<void>((resolve) => {
    const s = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' }, () => {
      s.write('GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
      resolve();
    });
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    held.push(s);
  })));
  await new Promise((r) => setTimeout(r, 100));
  try {
    expect((await call(port, 'GET', '/api/status', {})).status).toBe(200);
  } finally {
    for (const s of held) s.destroy();
  }
});
