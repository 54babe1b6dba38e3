/** `GET /api/lockouts`: every resource's lockout register (`lifted` ones included: the history of who set it). */
import type { FastifyPluginAsync } from 'fastify';
import type { LockoutValue } from '@keymesh/protocol';
import type { RouteOptions } from '../context.js';
import { NoQuery, parseInput } from '../input.js';

export const lockoutRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const { ledger } = ctx.deps;
  app.get('/api/lockouts', async (req) => {
    const { policy } = ledger;
    parseInput(NoQuery, req.query, 'query');
    const lockouts = policy.keys('lockout/').map((k) => policy.lockout(k.slice('lockout/'.length))).filter((v): v is LockoutValue => v !== undefined);
    return { lockouts };
  });
};
