/**
 * Requests to an HTTP server under test through a real listening port (fastify's `inject`
 * needs light-my-request, whose ESM-only cookie package jest's module loader cannot require).
 */
export interface Listenable {
  listen(o: { port: number; host: string }): Promise<unknown>;
  server: { address(): unknown };
}

export interface CallResult {
  statusCode: number;
  body: string;
  headers: Record<string, string>;
  json: () => any;
}

/** Starts `app` on a free port of 127.0.0.1; the function it returns makes one request. */
export async function httpCaller(app: Listenable) {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  return async (o: { method?: 'GET' | 'POST'; url: string; payload?: unknown; headers?: Record<string, string> }): Promise<CallResult> => {
    const body = o.payload === undefined ? undefined : typeof o.payload === 'string' ? o.payload : JSON.stringify(o.payload);
    const headers = { ...(typeof o.payload === 'object' ? { 'content-type': 'application/json' } : {}), ...o.headers };
    const res = await fetch(base + o.url, { method: o.method ?? 'GET', headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    return { statusCode: res.status, body: text, headers: Object.fromEntries(res.headers), json: () => JSON.parse(text) };
  };
}
