/**
 * The local panel: a small web page the agent serves for a kiosk screen beside the door or
 * machine, its status as JSON, a live event stream, and (sim mode only) virtual badges and
 * inputs.
 *
 * Plain node:http, no framework: it runs on a Pi beside the agent, where every megabyte and
 * every millisecond of start-up counts, for five routes; and the page is inline (no CDN, no
 * web fonts) because a kiosk by a door is often on a network that reaches nothing else.
 *
 * Listens on 127.0.0.1 by default: the kiosk browser runs on the Pi itself. Give host
 * 0.0.0.0 to show the panel on another screen; it is read-only then, except in sim mode,
 * where POST /api/sim/tap and /api/sim/input exist (and only then) to play with a demo.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { normaliseCardUid, type CardUid, type CardUidForm } from '@keymesh/protocol';
import { z } from 'zod';
import { EventHub, DEFAULT_MAX_SSE_CLIENTS } from './events.js';
import { HttpRefusal, readJson } from './http-body.js';
import type { PanelModel } from './model.js';
import { PANEL_CSS, panelPage } from './page.js';
import { PANEL_SCRIPT } from './page-script.js';
import { panelView } from './view.js';

export const DEFAULT_PANEL_HOST = '127.0.0.1';
export const DEFAULT_PANEL_PORT = 8080;
/** Connections one remote address may hold at once (a kiosk needs a few: the page, its live view, a button). */
export const MAX_CONNECTIONS_PER_ADDRESS = 24;

/** The few log calls the panel makes (a pino logger fits). Never given a uid. */
export interface PanelLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface PanelOptions {
  model: PanelModel;
  /** Default 127.0.0.1 (see above). */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  log?: PanelLog;
  /** Live views served at once (default 32). */
  maxEventClients?: number;
  heartbeatMs?: number;
}

export interface PanelServer {
  /** Where a browser on this machine reaches it. */
  url: string;
  port: number;
  /** Live event streams open now (for doctor and tests). */
  eventClients(): number;
  close(): Promise<void>;
}

/** POST /api/sim/tap: a demo badge by its label, or a typed uid (hex by default). */
export const SimTapBody = z
  .strictObject({
    card: z.string().min(1).max(64).optional(),
    uid: z.string().min(1).max(160).optional(),
    form: z.enum(['hex', 'decimal', 'facility']).optional(),
  })
  .refine((b) => (b.card === undefined) !== (b.uid === undefined), { message: 'give either "card" (a demo badge\'s label) or "uid" (the card number), not both' })
  .refine((b) => b.form === undefined || b.uid !== undefined, { message: '"form" goes with "uid"' });

/** POST /api/sim/input: a sim input by its config name. */
export const SimInputBody = z.strictObject({ name: z.string().min(1).max(64), active: z.boolean() });

const FORM_HINT: Record<CardUidForm, string> = {
  hex: 'whole bytes of hex digits, optionally separated by ":", "-" or a space',
  decimal: 'digits only, the number printed on the fob',
  facility: 'facility (0-255), a comma, then the number (0-65535)',
};

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
} as const;

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), headers);
}

/**
 * A POST moves the (sim) relay, so it must come from the panel's own page or a local tool. DNS
 * rebinding (a hostile page's own name made to resolve to this machine) is same-origin to the
 * browser, but its Host header still names that DNS name: a POST is taken only when Host is an IP
 * address, localhost, or the host the panel was bound to. A cross-site request names its site
 * in Origin, which must then be the panel's own.
 */
function checkPostSource(req: IncomingMessage, boundHost: string): void {
  const hostHeader = req.headers.host ?? '';
  let host: URL;
  try {
    host = new URL(`http://${hostHeader}`);
  } catch {
    throw new HttpRefusal(400, 'the Host header is not a host name; open the panel by its address');
  }
  const name = host.hostname.replace(/^\[|\]$/g, '');
  if (name !== 'localhost' && isIP(name) === 0 && name !== boundHost.toLowerCase()) {
    throw new HttpRefusal(403, `the Host header names "${name.slice(0, 60)}": the panel takes a POST only when addressed by its IP address or as localhost (a page on another site can point a DNS name at this machine); open the panel by its address`);
  }
  const origin = req.headers.origin;
  if (origin === undefined) return;
  let from: string | null;
  try {
    from = new URL(origin).host;
  } catch {
    from = null;
  }
  if (from !== host.host) throw new HttpRefusal(403, 'the request comes from a page on another origin; the sim buttons work only from the panel\'s own page or `keymesh-edge tap`');
}

/** Starts the panel; resolves once it listens. */
export async function startPanel(opts: PanelOptions): Promise<PanelServer> {
  const { model } = opts;
  const host = opts.host ?? DEFAULT_PANEL_HOST;
  const log: PanelLog = opts.log ?? { info() {}, warn() {} };
  const view = () => panelView(model.snapshot(), Date.now());
  const hub = new EventHub({
    payload: () => JSON.stringify(view()),
    maxClients: opts.maxEventClients,
    heartbeatMs: opts.heartbeatMs,
    onError: (err) => log.warn({ err: (err as Error)?.message }, 'panel: the agent could not make a snapshot'),
  });
  const unsubscribe = model.subscribe(() => hub.changed());

  const routes: Record<string, Partial<Record<'GET' | 'POST', Handler>>> = {
    '/': { GET: (_req, res) => send(res, 200, 'text/html; charset=utf-8', panelPage(view())) },
    '/panel.css': { GET: (_req, res) => send(res, 200, 'text/css; charset=utf-8', PANEL_CSS) },
    '/panel.js': { GET: (_req, res) => send(res, 200, 'text/javascript; charset=utf-8', PANEL_SCRIPT) },
    '/api/status': { GET: (_req, res) => sendJson(res, 200, view()) },
    '/api/events': { GET: (req, res) => hub.add(req, res) },
  };
  const sim = model.sim;
  if (sim) {
    routes['/api/sim/tap'] = {
      POST: async (req, res) => {
        const body = await readJson(req, SimTapBody);
        let uid: CardUid;
        if (body.card !== undefined) {
          const cards = model.snapshot().sim?.cards ?? [];
          const card = cards.find((c) => c.label === body.card);
          if (!card) throw new HttpRefusal(404, `no demo badge has that label; the badges are: ${cards.map((c) => c.label).join(', ') || 'none'}`);
          uid = card.uid;
        } else {
          const form = body.form ?? 'hex';
          try {
            uid = normaliseCardUid(body.uid!, form);
          } catch {
            // The protocol's message may quote the text: it is not repeated (it may be a uid).
            throw new HttpRefusal(400, `uid is not a card number in ${form} form: ${FORM_HINT[form]}`);
          }
        }
        const result = await sim.tap(uid);
        sendJson(res, 200, { ok: result.ok, message: result.message });
      },
    };
    routes['/api/sim/input'] = {
      POST: async (req, res) => {
        const body = await readJson(req, SimInputBody);
        const names = (model.snapshot().sim?.inputs ?? []).map((i) => i.name);
        if (!names.includes(body.name) || !sim.setInput(body.name, body.active)) {
          throw new HttpRefusal(404, `no sim input is named "${body.name}"; the inputs are: ${names.join(', ') || 'none'}`);
        }
        sendJson(res, 200, { ok: true, message: `${body.name} ${body.active ? 'active' : 'inactive'}` });
      },
    };
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://panel').pathname;
    } catch {
      throw new HttpRefusal(400, 'the request path is not a URL path');
    }
    const route = routes[path];
    if (!route) throw new HttpRefusal(404, `nothing at ${path.slice(0, 80)}; the panel serves /, /api/status and /api/events${sim ? ', /api/sim/tap and /api/sim/input' : ' (the sim endpoints exist only when the agent runs sim hardware)'}`);
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (method === 'POST') checkPostSource(req, host);
    const handler = route[method as 'GET' | 'POST'];
    if (!handler) {
      const allow = Object.keys(route).join(', ');
      throw new HttpRefusal(405, `${path} takes ${allow}`, { Allow: allow });
    }
    await handler(req, res);
  };

  const server = createServer({ requestTimeout: 15_000, headersTimeout: 10_000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      const refusal = err instanceof HttpRefusal ? err : null;
      if (!refusal) log.warn({ err: (err as Error)?.message, path: req.url?.slice(0, 80) }, 'panel request failed');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = refusal?.status ?? 500;
      // A body refused half-read is not drained: the connection closes after the answer.
      const headers = { ...refusal?.headers, ...(status === 413 ? { Connection: 'close' } : {}) };
      sendJson(res, status, { ok: false, error: refusal?.message ?? 'the agent failed to handle this request; see its log' }, headers);
      if (status === 413) res.on('finish', () => req.destroy());
    });
  });
  server.maxConnections = (opts.maxEventClients ?? DEFAULT_MAX_SSE_CLIENTS) + 32;
  // One address may hold only a share of those: sockets that send half a request (slowloris)
  // live until Node's header timeout is checked (tens of seconds), and would lock the kiosk out.
  const perAddress = new Map<string, number>();
  server.on('connection', (socket) => {
    const addr = socket.remoteAddress ?? '';
    const n = (perAddress.get(addr) ?? 0) + 1;
    if (n > MAX_CONNECTIONS_PER_ADDRESS) {
      socket.destroy();
      return;
    }
    perAddress.set(addr, n);
    socket.once('close', () => {
      const left = (perAddress.get(addr) ?? 1) - 1;
      if (left > 0) perAddress.set(addr, left);
      else perAddress.delete(addr);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? DEFAULT_PANEL_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shown}:${port}/`;
  log.info({ url, sim: Boolean(sim) }, 'panel listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    eventClients: () => hub.size,
    close() {
      closing ??= new Promise<void>((resolve) => {
        unsubscribe();
        hub.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
