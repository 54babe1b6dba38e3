/**
 * `GET /api/policy/:key` (the key URL-encoded: `member%2Fm1`) → `{ key, value, heads }`: one
 * register of the materialised state and its heads, which an admin tool names in `deps` when
 * it changes the key. Read from the in-memory state, which is what the `policy` table holds
 * (materialise.ts writes valueOf and headHashes of each key).
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { RouteOptions } from '../context.js';
import { notFound } from '../errors.js';
import { NoQuery, parseInput } from '../input.js';

const Params = z.strictObject({ key: z.string().regex(/^[a-z]{1,16}(\/[A-Za-z0-9._:-]{1,128}){0,2}$/, 'must be a policy key such as member/<id>, card/<ref>, cert/<member>/<resource>, resource/<id>, lockout/<resource>, node/<key> or admins') });

export const policyRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const { ledger } = ctx.deps;
  app.get('/api/policy/:key', async (req) => {
    const { policy } = ledger;
    const { key } = parseInput(Params, req.params, 'path');
    parseInput(NoQuery, req.query, 'query');
    const value = policy.valueOf(key);
    if (value === undefined) throw notFound(`no policy key "${key}" in this site's rules (encode its slashes: member%2Fm1)`);
    return { key, value, heads: policy.headHashes(key) };
  });
};
