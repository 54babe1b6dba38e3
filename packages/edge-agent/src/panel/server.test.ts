// The panel over real HTTP on an ephemeral port of 127.0.0.1, with a fake model: what it shows,
// the live stream, the sim endpoints (present only in sim mode), and every hostile request
// refused with a 4xx that changes nothing.
import { describe, it, expect, afterEach } from '@jest/globals';
import { request, type IncomingMessage } from 'node:http';
import { Script } from 'node:vm';
import type { CardUid } from '@keymesh/protocol';
import type { PanelModel, PanelSnapshot } from './model.js';
import { startPanel, type PanelServer } from './server.js';
import { PANEL_SCRIPT } from './page-script.js';

const ADA_UID = 'c0ffee0123' as CardUid; // distinctive: searched for in everything the panel sends
const BOB_UID = '0badcafe99' as CardUid;

function snapshot(sim: boolean): PanelSnapshot {
  return {
    node: { name: 'laser-pi', key: '0123456789abcdef', kind: 'machine', resource: { id: 'laser', name: 'Laser cutter' } },
    state: 'idle',
    member: null,
    sessionStartedAt: null,
    lastDecision: null,
    lastMessage: null,
    rulesAgeMs: 60_000,
    rulesFreshAt: Date.now() - 120_000,
    rulesStale: false,
    online: true,
    alarms: [],
    sim: sim
      ? {
          outputs: [{ name: 'relay', on: false }, { name: 'greenLed', on: false }],
          inputs: [{ name: 'estop', active: false }, { name: 'activity', active: false }],
          cards: [{ label: 'Ada', uid: ADA_UID }, { label: 'Bob', uid: BOB_UID }],
        }
      : null,
  };
}

function fakeModel(opts: { sim: boolean; tapThrows?: boolean }) {
  let snap = snapshot(opts.sim);
  const listeners = new Set<() => void>();
  const taps: string[] = [];
  const inputs: Array<[string, boolean]> = [];
  const broken = { on: false };
  const set = (patch: Partial<PanelSnapshot>) => {
    snap = { ...snap, ...patch };
    for (const l of listeners) l();
  };
  const model: PanelModel = {
    snapshot: () => {
      if (broken.on) throw new Error('snapshot bug');
      return snap;
    },
    subscribe(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
  };
  if (opts.sim) {
    model.sim = {
      tap(uid) {
        if (opts.tapThrows) throw new Error('reader gone');
        taps.push(uid);
        const allow = uid === ADA_UID;
        set({ lastDecision: { at: Date.now(), allow, reason: allow ? 'ALLOWED' : 'NOT_CERTIFIED', message: allow ? 'allowed' : 'not certified', member: allow ? 'Ada' : null } });
        return { ok: allow, message: allow ? 'Ada: allowed' : 'denied: not certified' };
      },
      setInput(name, active) {
        inputs.push([name, active]);
        set({ sim: { ...snap.sim!, inputs: snap.sim!.inputs.map((i) => (i.name === name ? { name, active } : i)) } });
        return true;
      },
    };
  }
  return { model, set, taps, inputs, listeners, broken };
}

let panel: PanelServer | undefined;
afterEach(async () => {
  await panel?.close();
  panel = undefined;
});

async function start(opts: { sim: boolean; tapThrows?: boolean }, extra: { maxEventClients?: number; heartbeatMs?: number } = {}) {
  const fake = fakeModel(opts);
  const warnings: object[] = [];
  panel = await startPanel({ model: fake.model, port: 0, log: { info() {}, warn: (o) => warnings.push(o) }, ...extra });
  return { ...fake, warnings, url: panel.url.replace(/\/$/, '') };
}

const json = (res: Response): Promise<any> => res.json();

const postJson = (url: string, body: unknown, type = 'application/json') =>
  fetch(url, { method: 'POST', headers: { 'Content-Type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** An SSE stream read with node:http: its snapshots in order, and the raw text. */
function openEvents(url: string) {
  const snapshots: any[] = [];
  let raw = '';
  let res: IncomingMessage | undefined;
  const waiters: Array<() => void> = [];
  const ready = new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url + '/api/events', (r) => {
      res = r;
      r.setEncoding('utf8');
      r.on('data', (chunk: string) => {
        raw += chunk;
        for (const m of chunk.matchAll(/^data: (.*)$/gm)) snapshots.push(JSON.parse(m[1]!));
        waiters.splice(0).forEach((w) => w());
      });
      resolve(r);
    });
    req.on('error', reject);
    req.end();
  });
  const until = async (test: () => boolean) => {
    while (!test()) await new Promise<void>((r) => waiters.push(r));
  };
  return { ready, snapshots, until, raw: () => raw, close: () => res?.destroy() };
}

describe('panel: what it shows', () => {
  it('GET /api/status is the snapshot with the agent clock, and demo badges by label only', async () => {
    const p = await start({ sim: true });
    const res = await fetch(p.url + '/api/status');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const text = await res.text();
    const view = JSON.parse(text);
    expect(view.node.resource.name).toBe('Laser cutter');
    expect(view.state).toBe('idle');
    expect(typeof view.now).toBe('number');
    expect(view.sim.cards).toEqual([{ label: 'Ada' }, { label: 'Bob' }]);
    expect(text).not.toContain(ADA_UID);
    expect(text).not.toContain(BOB_UID);
  });

  it('GET / is a page with the resource, its own script and style (no CDN), and no uid', async () => {
    const p = await start({ sim: true });
    p.set({ member: { id: 'm-ada', name: 'Ada <Lovelace>' }, state: 'in_use', sessionStartedAt: Date.now() - 5000 });
    const res = await fetch(p.url + '/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain('<h1 id="resource">Laser cutter</h1>');
    expect(html).toContain('src="/panel.js"');
    expect(html).not.toMatch(/https?:\/\//i); // nothing fetched from elsewhere
    expect(html).not.toContain('<Lovelace>'); // escaped inside the embedded view
    expect(html).not.toContain(ADA_UID);
    expect(html.toLowerCase()).not.toContain(BOB_UID);
    expect(await (await fetch(p.url + '/panel.css')).text()).toContain('.state-word');
    const js = await fetch(p.url + '/panel.js');
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(() => new Script(PANEL_SCRIPT)).not.toThrow(); // the script parses
  });

  it('HEAD works where GET does', async () => {
    const p = await start({ sim: false });
    expect((await fetch(p.url + '/api/status', { method: 'HEAD' })).status).toBe(200);
  });

  it('unknown paths are 404 and wrong methods 405 with Allow', async () => {
    const p = await start({ sim: true });
    expect((await fetch(p.url + '/etc/passwd')).status).toBe(404);
    expect((await fetch(p.url + '/api/status/')).status).toBe(404);
    const post = await postJson(p.url + '/api/status', {});
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    const get = await fetch(p.url + '/api/sim/tap');
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await fetch(p.url + '/', { method: 'DELETE' })).status).toBe(405);
  });
});

describe('panel: live events', () => {
  it('sends the snapshot at once, then after each change; a heartbeat keeps it alive', async () => {
    const p = await start({ sim: false }, { heartbeatMs: 50 });
    const ev = openEvents(p.url);
    expect((await ev.ready).headers['content-type']).toMatch(/text\/event-stream/);
    await ev.until(() => ev.snapshots.length >= 1);
    expect(ev.snapshots[0].state).toBe('idle');
    p.set({ state: 'in_use', member: { id: 'm-ada', name: 'Ada' }, sessionStartedAt: 1 });
    await ev.until(() => ev.snapshots.length >= 2);
    expect(ev.snapshots[1]).toMatchObject({ state: 'in_use', member: { name: 'Ada' } });
    await ev.until(() => ev.raw().includes(': heartbeat'));
    ev.close();
  });

  it('changes in one turn of the event loop are sent once, the newest', async () => {
    const p = await start({ sim: false });
    const ev = openEvents(p.url);
    await ev.until(() => ev.snapshots.length >= 1);
    p.set({ state: 'in_use' });
    p.set({ state: 'locked_out' });
    p.set({ online: false });
    await ev.until(() => ev.snapshots.length >= 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(ev.snapshots).toHaveLength(2);
    expect(ev.snapshots[1]).toMatchObject({ state: 'locked_out', online: false });
    ev.close();
  });

  it('serves at most maxEventClients streams (503 beyond), and frees a slot when a client goes', async () => {
    const p = await start({ sim: false }, { maxEventClients: 2 });
    const a = openEvents(p.url);
    const b = openEvents(p.url);
    await a.until(() => a.snapshots.length >= 1);
    await b.until(() => b.snapshots.length >= 1);
    const refused = await fetch(p.url + '/api/events');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('10');
    expect((await json(refused)).error).toMatch(/2 live views/);
    a.close();
    // the server notices the closed socket; then a new client gets the slot
    for (let i = 0; ; i++) {
      const c = openEvents(p.url);
      const r = await c.ready;
      if (r.statusCode === 200) {
        await c.until(() => c.snapshots.length >= 1);
        c.close();
        break;
      }
      c.close();
      if (i > 100) throw new Error('the slot of a closed client was never freed');
      await new Promise((res) => setTimeout(res, 20));
    }
    b.close();
  });

  it('a client that stops reading is dropped once its backlog passes the bound, and the panel keeps serving', async () => {
    const p = await start({ sim: false });
    const ev = openEvents(p.url);
    const res = await ev.ready;
    await ev.until(() => ev.snapshots.length >= 1);
    res.pause(); // reads nothing more: the kernel buffers fill, then the server's
    res.socket.pause();
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; panel!.eventClients() > 0; i++) {
      if (i > 1000) throw new Error('a client that reads nothing was never dropped'); // 64 MB sent: far past any socket buffer
      p.set({ alarms: [big + i] });
      await new Promise((r) => setImmediate(r));
    }
    expect((await fetch(p.url + '/api/status')).status).toBe(200);
    ev.close();
  });

  it('a snapshot the model fails to make is logged, not thrown: streams and the process go on', async () => {
    const p = await start({ sim: false });
    const ev = openEvents(p.url);
    await ev.until(() => ev.snapshots.length >= 1);
    p.broken.on = true;
    p.set({ state: 'in_use' });
    await new Promise((r) => setTimeout(r, 20));
    expect(p.warnings).toEqual([expect.objectContaining({ err: 'snapshot bug' })]);
    expect((await fetch(p.url + '/api/status')).status).toBe(500);
    expect((await fetch(p.url + '/api/events')).status).toBe(500);
    p.broken.on = false;
    p.set({ state: 'locked_out' });
    await ev.until(() => ev.snapshots.length >= 2);
    expect(ev.snapshots[1].state).toBe('locked_out');
    ev.close();
  });

  it('close() ends the streams and lets go of the model', async () => {
    const p = await start({ sim: false });
    const ev = openEvents(p.url);
    await ev.until(() => ev.snapshots.length >= 1);
    expect(p.listeners.size).toBe(1);
    const ended = new Promise((r) => ev.ready.then((res) => res.on('close', r)));
    await panel!.close();
    panel = undefined;
    await ended;
    expect(p.listeners.size).toBe(0);
  });
});

describe('panel: sim endpoints', () => {
  it('do not exist without sim hardware', async () => {
    const p = await start({ sim: false });
    const tap = await postJson(p.url + '/api/sim/tap', { card: 'Ada' });
    expect([tap.status, (await json(tap)).error]).toEqual([404, expect.stringMatching(/only when the agent runs sim hardware/)]);
    expect((await postJson(p.url + '/api/sim/input', { name: 'estop', active: true })).status).toBe(404);
  });

  it('a demo badge is tapped by its label; the answer is the decision, without the uid', async () => {
    const p = await start({ sim: true });
    const res = await postJson(p.url + '/api/sim/tap', { card: 'Ada' });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ ok: true, message: 'Ada: allowed' });
    expect(text).not.toContain(ADA_UID);
    expect(p.taps).toEqual([ADA_UID]);
  });

  it('a typed uid is normalised (hex by default, or the form given) before the agent sees it', async () => {
    const p = await start({ sim: true });
    expect((await json(await postJson(p.url + '/api/sim/tap', { uid: 'C0:FF:EE:01:23' }))).ok).toBe(true);
    expect((await json(await postJson(p.url + '/api/sim/tap', { uid: '3735928559', form: 'decimal' }))).ok).toBe(false);
    expect(p.taps).toEqual([ADA_UID, 'deadbeef']);
  });

  it('sets an input by name', async () => {
    const p = await start({ sim: true });
    const res = await postJson(p.url + '/api/sim/input', { name: 'estop', active: true });
    expect(res.status).toBe(200);
    expect(p.inputs).toEqual([['estop', true]]);
    expect((await json(await fetch(p.url + '/api/status'))).sim.inputs[0]).toEqual({ name: 'estop', active: true });
  });

  it('a model that throws is a 500 with no detail for the client, logged, and the panel keeps serving', async () => {
    const p = await start({ sim: true, tapThrows: true });
    const res = await postJson(p.url + '/api/sim/tap', { card: 'Ada' });
    expect([res.status, (await json(res)).error]).toEqual([500, expect.stringMatching(/see its log/)]);
    expect(p.warnings).toEqual([expect.objectContaining({ err: 'reader gone' })]);
    expect((await fetch(p.url + '/api/status')).status).toBe(200);
  });
});

/** A POST through node:http: `chunks` sent as they are (chunked, no Content-Length) unless `length` is given. */
function rawPost(url: string, chunks: string[], headers: Record<string, string | number> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    let answered = false;
    const req = request(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers } }, (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    let i = 0;
    const next = () => {
      if (answered || req.destroyed) return; // refused: stop sending
      if (i < chunks.length) req.write(chunks[i++], next);
      else req.end();
    };
    next();
  });
}

describe('panel: hostile requests are refused with a 4xx and change nothing', () => {
  const refusals: Array<[string, string, unknown, number, RegExp]> = [
    ['malformed JSON', '/api/sim/tap', '{"card": "Ada"', 400, /not valid JSON/],
    ['JSON that is not an object', '/api/sim/tap', '"Ada"', 400, /expected object/i],
    ['an unknown key', '/api/sim/tap', { card: 'Ada', admin: true }, 400, /admin/],
    ['both a card and a uid', '/api/sim/tap', { card: 'Ada', uid: 'c0ffee0123' }, 400, /either "card"/],
    ['neither', '/api/sim/tap', {}, 400, /either "card"/],
    ['a form without a uid', '/api/sim/tap', { card: 'Ada', form: 'decimal' }, 400, /"form" goes with "uid"/],
    ['a uid that is not hex', '/api/sim/tap', { uid: 'c0ffee012z' }, 400, /not a card number in hex form/],
    ['a uid too long', '/api/sim/tap', { uid: 'ab'.repeat(100) }, 400, /uid/],
    ['a label no badge has', '/api/sim/tap', { card: 'Mallory' }, 404, /badges are: Ada, Bob/],
    ['an input that does not exist', '/api/sim/input', { name: 'relay', active: true }, 404, /inputs are: estop, activity/],
    ['an input level that is not a boolean', '/api/sim/input', { name: 'estop', active: 'yes' }, 400, /active/],
  ];
  it.each(refusals)('%s', async (_what, path, body, status, message) => {
    const p = await start({ sim: true });
    const res = await postJson(p.url + path, body as object);
    expect(res.status).toBe(status);
    const text = await res.text();
    expect(JSON.parse(text).error).toMatch(message);
    expect(text).not.toContain('c0ffee012z'); // a typed uid is never repeated back
    expect(p.taps).toEqual([]);
    expect(p.inputs).toEqual([]);
  });

  it('a body that is not JSON by its Content-Type: 415 (a cross-site form cannot post here)', async () => {
    const p = await start({ sim: true });
    const res = await postJson(p.url + '/api/sim/tap', 'card=Ada', 'application/x-www-form-urlencoded');
    expect(res.status).toBe(415);
    expect((await postJson(p.url + '/api/sim/tap', '{"card":"Ada"}', 'text/plain')).status).toBe(415);
    expect(p.taps).toEqual([]);
  });

  it('a body declared over 1 KiB: 413 before it is read', async () => {
    const p = await start({ sim: true });
    const body = JSON.stringify({ card: 'Ada', pad: 'x'.repeat(2000) });
    const res = await rawPost(p.url + '/api/sim/tap', [body], { 'Content-Length': Buffer.byteLength(body) });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error).toMatch(/over 1024 bytes/);
    expect(p.taps).toEqual([]);
  });

  it('a body streamed past 1 KiB without a length: 413, and the panel still answers', async () => {
    const p = await start({ sim: true });
    const res = await rawPost(p.url + '/api/sim/tap', ['{"card":"Ada","pad":"', ...Array.from({ length: 64 }, () => 'y'.repeat(512)), '"}']);
    expect(res.status).toBe(413);
    expect(p.taps).toEqual([]);
    expect((await fetch(p.url + '/api/status')).status).toBe(200);
  });

  it('a body of exactly 1 KiB is read', async () => {
    const p = await start({ sim: true });
    const head = '{"card":"Ada"';
    const body = head + ' '.repeat(1024 - head.length - 1) + '}';
    expect(Buffer.byteLength(body)).toBe(1024);
    expect((await rawPost(p.url + '/api/sim/tap', [body])).status).toBe(200);
    expect(p.taps).toEqual([ADA_UID]);
  });
});
