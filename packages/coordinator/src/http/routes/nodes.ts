/** `GET /api/nodes`: the enrolled nodes (retired ones too, flagged), from the policy state. */
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../context.js';
import { NoQuery, parseInput } from '../input.js';

export const nodeRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const { deps } = ctx;
  app.get('/api/nodes', async (req) => {
    parseInput(NoQuery, req.query, 'query');
    const heads = deps.ledger.heads();
    return { nodes: deps.ledger.nodes().map((n) => ({ ...n, head: heads[n.node] ?? 0 })) };
  });
};
