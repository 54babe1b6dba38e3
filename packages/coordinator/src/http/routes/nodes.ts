/**
 * `GET /api/nodes`: the enrolled nodes (retired ones too, flagged), from the policy state, with
 * each one's feed head and liveness as /api/status reports it (online, lastSeen: from its
 * signed status and Last Will, node-registry.ts; null without a registry to ask).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../context.js';
import { NoQuery, parseInput } from '../input.js';

export const nodeRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const { deps } = ctx;
  app.get('/api/nodes', async (req) => {
    parseInput(NoQuery, req.query, 'query');
    const heads = deps.ledger.heads();
    const live = new Map((deps.registry?.list() ?? []).map((n) => [n.key, n]));
    const now = ctx.now();
    return {
      nodes: deps.ledger.nodes().map((n) => {
        const self = n.node === deps.coordinator;
        const l = live.get(n.node);
        return { ...n, head: heads[n.node] ?? 0, online: self ? true : deps.registry ? !!l?.online : null, lastSeen: self ? now : (l?.lastSeen ?? null) };
      }),
    };
  });
};
