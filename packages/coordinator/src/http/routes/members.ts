/** `GET /api/members?q=` (search by id or name) and `GET /api/members/:id` (cards, certifications, recent events). */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { MemberId } from '@keymesh/protocol';
import type { RouteOptions } from '../context.js';
import { notFound } from '../errors.js';
import { NoQuery, parseInput, queryText } from '../input.js';
import { cardsOf } from './cards.js';

const ListQuery = z.strictObject({ q: queryText().optional() });
const Params = z.strictObject({ id: MemberId });
/** Events listed on a member's page (the full history is /api/log?member=). */
const RECENT = 20;

export const memberRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const { ledger } = ctx.deps;
  app.get('/api/members', async (req) => {
    const { q } = parseInput(ListQuery, req.query, 'query');
    const needle = q?.toLowerCase();
    const members = ledger.members().filter((m) => needle === undefined || m.member.toLowerCase().includes(needle) || m.name.toLowerCase().includes(needle));
    return { members };
  });

  app.get('/api/members/:id', async (req) => {
    const { id } = parseInput(Params, req.params, 'path');
    parseInput(NoQuery, req.query, 'query');
    const member = ledger.member(id);
    if (!member) throw notFound(`no member "${id}" in this site's rules; list them with GET /api/members`);
    return {
      member,
      cards: cardsOf(ledger.policy, id),
      certifications: ledger.certifications(id),
      recent: ledger.accessLog({ member: id, limit: RECENT }).rows,
    };
  });
};
