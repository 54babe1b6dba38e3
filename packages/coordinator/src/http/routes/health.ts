/** `GET /healthz` (is the ledger open) and `GET /metrics` (Prometheus text). */
import type { FastifyPluginAsync } from 'fastify';
import { KeymeshError } from '@keymesh/protocol';
import type { RouteOptions } from '../context.js';
import { NoQuery, parseInput } from '../input.js';

export const healthRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const { deps } = ctx;
  app.get('/healthz', async (req, reply) => {
    parseInput(NoQuery, req.query, 'query');
    const uptimeS = Math.max(0, Math.floor((ctx.now() - ctx.startedAt) / 1000));
    try {
      void deps.ledger.sqliteSynchronous; // throws LEDGER_CLOSED once the ledger is closed
    } catch (err) {
      if (!(err instanceof KeymeshError)) throw err;
      return reply.code(503).send({ ok: false, site: deps.site, uptimeS, error: { code: err.code, message: err.message } });
    }
    return { ok: true, site: deps.site, uptimeS };
  });

  app.get('/metrics', async (req, reply) => {
    parseInput(NoQuery, req.query, 'query');
    const text = await deps.metrics.text();
    return reply.type(deps.metrics.contentType).send(text);
  });
};
