/** `GET /api/resources`: doors and machines, each with its lockout. */
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../context.js';
import { NoQuery, parseInput } from '../input.js';

export const resourceRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const { ledger } = ctx.deps;
  app.get('/api/resources', async (req) => {
    parseInput(NoQuery, req.query, 'query');
    return { resources: ledger.resources().map((r) => ({ ...r, lockout: ledger.policy.lockout(r.resource)?.state ?? 'lifted' })) };
  });
};
