/** `GET /healthz` (is the ledger open) and `GET /metrics` (Prometheus text). */
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../context.js';
import { NoQuery, parseInput } from '../input.js';
import { ledgerDown } from '../errors.js';

export const healthRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const { deps } = ctx;
  app.get('/healthz', async (req, reply) => {
    parseInput(NoQuery, req.query, 'query');
    const uptimeS = Math.max(0, Math.floor((ctx.now() - ctx.startedAt) / 1000));
    const down = ledgerDown(deps);
    if (down) return reply.code(503).send({ ok: false, site: deps.site, uptimeS, error: { code: down.code, message: down.message } });
    return { ok: true, site: deps.site, uptimeS };
  });

  app.get('/metrics', async (req, reply) => {
    parseInput(NoQuery, req.query, 'query');
    const text = await deps.metrics.text();
    return reply.type(deps.metrics.contentType).send(text);
  });
};
