/** `GET /api/feeds/:author/head` → `{ author, seq, hash, line }`: a feed's signed head entry, to sign the next one after it. */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { PublicKeyHex } from '@keymesh/protocol';
import type { RouteOptions } from '../context.js';
import { notFound } from '../errors.js';
import { NoQuery, parseInput } from '../input.js';

const Params = z.strictObject({ author: PublicKeyHex });

export const feedRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const { ledger } = ctx.deps;
  app.get('/api/feeds/:author/head', async (req) => {
    const { author } = parseInput(Params, req.params, 'path');
    parseInput(NoQuery, req.query, 'query');
    const head = ledger.headOf(author);
    if (!head) throw notFound(`the coordinator holds no entry of ${author.slice(0, 12)}…; a new key's first entry is seq 1 with prev null`);
    return { author, seq: head.seq, hash: head.hash, line: head.line };
  });
};
