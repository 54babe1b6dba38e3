/**
 * The dashboard's files at `/`: only the built page's own files are served, with their types and
 * a CSP that loads nothing from elsewhere; no request path reaches the file system (traversal,
 * encoded dots, other files in the folder); a host without a built page is told how to build it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Fastify, { type FastifyInstance } from 'fastify';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiContext } from '../context.js';
import { dashboardRoutes } from './dashboard.js';

const root = mkdtempSync(join(tmpdir(), 'km-dash-route-'));
const built = join(root, 'public', 'dist');
const apps: FastifyInstance[] = [];
const saved = process.env.KEYMESH_DASHBOARD_DIR;

beforeAll(() => {
  // A secret beside the page and one level up: neither may ever be served.
  writeFileSync(join(root, 'secret.txt'), 'not for the web');
  rmSync(built, { recursive: true, force: true });
  mkdirSync(built, { recursive: true });
  writeFileSync(join(built, 'index.html'), '<!doctype html><p>page</p>');
  writeFileSync(join(built, 'app.js'), 'console.log(1)');
  writeFileSync(join(built, 'style.css'), 'body{}');
  writeFileSync(join(built, 'notes.txt'), 'built beside the page, not part of it');
});

afterAll(async () => {
  for (const a of apps) await a.close();
  if (saved === undefined) delete process.env.KEYMESH_DASHBOARD_DIR;
  else process.env.KEYMESH_DASHBOARD_DIR = saved;
  rmSync(root, { recursive: true, force: true });
});

async function serve(dir: string): Promise<string> {
  process.env.KEYMESH_DASHBOARD_DIR = dir;
  const app = Fastify({ logger: false, routerOptions: { maxParamLength: 512, ignoreTrailingSlash: true } });
  await app.register(dashboardRoutes, { ctx: {} as ApiContext });
  await app.listen({ port: 0, host: '127.0.0.1' });
  apps.push(app);
  const { port } = app.server.address() as { port: number };
  return `127.0.0.1:${port}`;
}

/** A raw GET: the path goes on the wire exactly as written (no client-side normalising). */
function get(host: string, path: string): Promise<{ status: number; type: string; csp: string; body: string }> {
  const [hostname, port] = host.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port: Number(port), path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), csp: String(res.headers['content-security-policy'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard files', () => {
  it('serves the page, its script and its style with their types and a same-origin CSP', async () => {
    const host = await serve(built);
    const page = await get(host, '/');
    expect(page).toMatchObject({ status: 200, body: '<!doctype html><p>page</p>' });
    expect(page.type).toMatch(/^text\/html/);
    expect(page.csp).toContain("default-src 'self'");
    expect(page.csp).not.toMatch(/https?:/);
    expect(await get(host, '/app.js')).toMatchObject({ status: 200, type: expect.stringMatching(/^text\/javascript/), body: 'console.log(1)' });
    expect(await get(host, '/style.css')).toMatchObject({ status: 200, type: expect.stringMatching(/^text\/css/), body: 'body{}' });
  });

  it('serves nothing else: other files in the folder, traversal, encoded dots', async () => {
    const host = await serve(built);
    for (const path of ['/notes.txt', '/../secret.txt', '/../../secret.txt', '/%2e%2e/secret.txt', '/%2e%2e%2f%2e%2e%2fsecret.txt', '/app.js/../../secret.txt', '/..%5c..%5csecret.txt', '/index.html%00.js']) {
      const r = await get(host, path);
      expect({ path, status: r.status }).toEqual({ path, status: 404 });
      expect(r.body).not.toContain('not for the web');
      expect(r.body).not.toContain('built beside the page');
    }
  });

  it('says how to build the page where it is not built, and 404s its files', async () => {
    const host = await serve(join(root, 'nowhere'));
    const r = await get(host, '/');
    expect(r.status).toBe(503);
    expect(r.body).toContain('npm run build');
    expect((await get(host, '/app.js')).status).toBe(404);
  });
});
