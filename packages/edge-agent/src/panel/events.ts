/**
 * Server-Sent Events for the panel: each client gets the snapshot at once, then again after each
 * change (changes within one turn of the event loop are sent once), and a comment line as a
 * heartbeat so a kiosk notices a dead agent and proxies keep the stream open.
 *
 * Bounded: at most `maxClients` streams (a page reloading in a loop, or a hostile client on the
 * LAN, must not eat the Pi's memory), and a client that stops reading is dropped once its
 * unsent data passes MAX_PENDING_BYTES instead of being buffered for ever.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpRefusal } from './http-body.js';

export const DEFAULT_MAX_SSE_CLIENTS = 32;
export const DEFAULT_HEARTBEAT_MS = 15_000;
/** Unsent bytes after which a slow client is dropped (a few hundred snapshots). */
export const MAX_PENDING_BYTES = 256 * 1024;

export interface EventHubOptions {
  /** The data of one event (JSON of the snapshot). */
  payload(): string;
  maxClients?: number;
  heartbeatMs?: number;
  /** A snapshot that could not be made (a bug in the model): logged, the streams go on. */
  onError?: (err: unknown) => void;
}

export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly maxClients: number;
  private readonly heartbeat: NodeJS.Timeout;
  private pending = false;
  private closed = false;

  constructor(private readonly opts: EventHubOptions) {
    this.maxClients = opts.maxClients ?? DEFAULT_MAX_SSE_CLIENTS;
    this.heartbeat = setInterval(() => this.broadcast(': heartbeat\n\n'), opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Takes over `res` as an event stream, or throws HttpRefusal(503) when full. */
  add(req: IncomingMessage, res: ServerResponse): void {
    if (this.closed) throw new HttpRefusal(503, 'the panel is stopping');
    if (this.clients.size >= this.maxClients) {
      throw new HttpRefusal(503, `the panel already serves ${this.maxClients} live views; close one (or reload later)`, { 'Retry-After': '10' });
    }
    const first = this.event(); // before the headers: a failure is still an ordinary 500
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
      Connection: 'keep-alive',
    });
    req.socket.setNoDelay(true);
    this.clients.add(res);
    const drop = () => this.clients.delete(res);
    res.on('close', drop);
    req.on('close', drop);
    this.write(res, 'retry: 2000\n\n' + first);
  }

  /** Something changed: every client gets the new snapshot, once per turn of the event loop. */
  changed(): void {
    if (this.pending || this.closed) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      if (!this.clients.size || this.closed) return;
      let text: string;
      try {
        text = this.event();
      } catch (err) {
        this.opts.onError?.(err); // runs outside any request: thrown here it would end the agent
        return;
      }
      this.broadcast(text);
    });
  }

  /** Ends every stream and stops the heartbeat. */
  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private event(): string {
    return `event: snapshot\ndata: ${this.opts.payload()}\n\n`;
  }

  private broadcast(text: string): void {
    for (const res of this.clients) this.write(res, text);
  }

  private write(res: ServerResponse, text: string): void {
    if (res.writableLength > MAX_PENDING_BYTES) {
      this.clients.delete(res);
      res.destroy();
      return;
    }
    res.write(text);
  }
}
