/** What needs an admin: `GET /api/conflicts`, `/api/forks`, `/api/alarms`, `/api/quarantine?limit=`. */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { RouteOptions } from '../context.js';
import { NoQuery, parseInput, queryInt } from '../input.js';

const QuarantineQuery = z.strictObject({ limit: queryInt(1, 1000).optional() });

export const problemRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const { ledger } = ctx.deps;
  app.get('/api/conflicts', async (req) => {
    parseInput(NoQuery, req.query, 'query');
    return { conflicts: ledger.conflicts() };
  });
  app.get('/api/forks', async (req) => {
    parseInput(NoQuery, req.query, 'query');
    return { forks: ledger.forks() };
  });
  app.get('/api/alarms', async (req) => {
    parseInput(NoQuery, req.query, 'query');
    return { alarms: ledger.alarms() };
  });
  app.get('/api/quarantine', async (req) => {
    const { limit = 100 } = parseInput(QuarantineQuery, req.query, 'query');
    return { quarantine: ledger.quarantined(limit) };
  });
};
