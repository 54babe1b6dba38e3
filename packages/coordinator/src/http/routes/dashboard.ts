/**
 * The dashboard (packages/dashboard, built at build time into its dist/) at `/`: a fixed list
 * of files, so no request path ever reaches the file system. Looked for in KEYMESH_DASHBOARD_DIR,
 * else beside this package in the repository (packages/dashboard/dist). Read per request (a few
 * files, about a megabyte), so a rebuilt page is served without a restart; not built: `/`
 * says how to build it. The page loads nothing from elsewhere, and its CSP says so.
 */
import type { FastifyPluginAsync } from 'fastify';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RouteOptions } from '../context.js';

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

const CSP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

export function dashboardDir(): string {
  const env = process.env.KEYMESH_DASHBOARD_DIR;
  if (env) return resolve(env);
  // dist/http/routes/dashboard.js → packages/coordinator → packages/dashboard/dist
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'dashboard', 'dist');
}

const NOT_BUILT = '<!doctype html><meta charset="utf-8"><title>Keymesh</title><p>The dashboard is not built on this host: run <code>npm run build</code> in the Keymesh folder (or set KEYMESH_DASHBOARD_DIR to a built dashboard) and reload.</p>\n';

export const dashboardRoutes: FastifyPluginAsync<RouteOptions> = async (app) => {
  const dir = dashboardDir();
  const serve = (name: string) => async (_req: unknown, reply: import('fastify').FastifyReply) => {
    reply.header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer').header('cache-control', 'no-cache');
    let body: Buffer;
    try {
      body = await readFile(join(dir, name));
    } catch {
      if (name !== 'index.html') return reply.code(404).type('text/plain; charset=utf-8').send('not found\n');
      return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    }
    return reply.type(FILES[name]!).send(body);
  };
  app.get('/', serve('index.html'));
  for (const name of Object.keys(FILES)) app.get(`/${name}`, serve(name));
};
