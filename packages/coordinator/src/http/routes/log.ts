/**
 * `GET /api/log?member=&resource=&allow=&from=&to=&before=&limit=` → `{ rows, next }`: the access
 * log, newest first, paged with the ledger's cursor. `allow` is filtered here, page by page, so
 * a page may hold fewer rows than `limit` while `next` is not null: keep paging until it is.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { MemberId, ResourceId } from '@keymesh/protocol';
import type { AccessLogRow } from '@keymesh/ledger';
import type { RouteOptions } from '../context.js';
import { parseInput, queryBool, queryInt } from '../input.js';

export const MAX_LOG_LIMIT = 1000;
/** Ledger pages read for one answer when `allow` filters most rows out. */
const MAX_PAGES = 20;

const Query = z.strictObject({
  member: MemberId.optional(),
  resource: ResourceId.optional(),
  allow: queryBool.optional(),
  from: queryInt(0, 2 ** 47).optional(),
  to: queryInt(0, 2 ** 47).optional(),
  before: z.string().regex(/^\d{1,16}:\d{1,20}$/, 'must be the `next` cursor of a previous page').optional(),
  limit: queryInt(1, MAX_LOG_LIMIT).optional(),
});

export const logRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const { ledger } = ctx.deps;
  app.get('/api/log', async (req) => {
    const { allow, limit = 50, before, ...filter } = parseInput(Query, req.query, 'query');
    const rows: AccessLogRow[] = [];
    let cursor: string | null = before ?? null;
    for (let page = 0; page < MAX_PAGES && rows.length < limit; page++) {
      // Asking only for what is still missing, each page is taken whole, so its cursor stays exact.
      const got = ledger.accessLog({ ...filter, limit: limit - rows.length, ...(cursor ? { before: cursor } : {}) });
      rows.push(...(allow === undefined ? got.rows : got.rows.filter((r) => r.allow === allow)));
      cursor = got.next;
      if (cursor === null) break;
    }
    return { rows, next: cursor };
  });
};
