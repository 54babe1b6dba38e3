/** `GET /api/site`: which site and coordinator this is, and its time (admin tools sign with it in mind). */
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../context.js';
import { NoQuery, parseInput } from '../input.js';

export const siteRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const { deps } = ctx;
  app.get('/api/site', async (req) => {
    parseInput(NoQuery, req.query, 'query');
    return { site: deps.site, name: deps.siteName, coordinator: deps.coordinator, now: ctx.now() };
  });
};
