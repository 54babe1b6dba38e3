/**
 * The coordinator's HTTP API (issue 12 §5): JSON over fastify, one plugin per resource in
 * routes/, inputs through strict zod schemas (input.ts), errors mapped to statuses in one place
 * (errors.ts). `buildApi` returns the instance ready but not listening: the caller listens.
 * Request logging is off (the lead logs one line per event); refusals are logged with their code.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { ReplayCache } from '@keymesh/protocol';
import type { ApiContext, ApiDeps } from './context.js';
import { installErrorHandlers, ledgerDown } from './errors.js';
import { healthRoutes } from './routes/health.js';
import { siteRoutes } from './routes/site.js';
import { nodeRoutes } from './routes/nodes.js';
import { memberRoutes } from './routes/members.js';
import { cardRoutes } from './routes/cards.js';
import { certificationRoutes } from './routes/certifications.js';
import { resourceRoutes } from './routes/resources.js';
import { lockoutRoutes } from './routes/lockouts.js';
import { logRoutes } from './routes/log.js';
import { problemRoutes } from './routes/problems.js';
import { policyRoutes } from './routes/policy.js';
import { feedRoutes } from './routes/feeds.js';
import { entryRoutes } from './routes/entries.js';
import { commandRoutes } from './routes/commands.js';
import { statusRoutes } from './routes/status.js';
import { dashboardRoutes } from './routes/dashboard.js';

export type { ApiDeps } from './context.js';

export const DEFAULT_BODY_LIMIT = 256 * 1024;

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const now = deps.now ?? Date.now;
  const app = Fastify({
    logger: false,
    disableRequestLogging: true,
    bodyLimit: deps.bodyLimit ?? DEFAULT_BODY_LIMIT,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Paths and query strings are short; a longer one is not a request of this API.
    routerOptions: { maxParamLength: 512, ignoreTrailingSlash: true },
  });
  const ctx: ApiContext = { deps, now, startedAt: now(), seenCommands: new ReplayCache(4096) };
  deps.metrics.attach({ sync: deps.sync, coordinator: deps.coordinator, brokerClients: deps.brokerClients, registry: deps.registry });
  installErrorHandlers(app, deps.log, () => ledgerDown(deps));
  for (const routes of [
    healthRoutes, siteRoutes, nodeRoutes, memberRoutes, cardRoutes, certificationRoutes, resourceRoutes,
    lockoutRoutes, logRoutes, problemRoutes, policyRoutes, feedRoutes, entryRoutes, commandRoutes, statusRoutes, dashboardRoutes,
  ]) await app.register(routes, { ctx });
  return app;
}
