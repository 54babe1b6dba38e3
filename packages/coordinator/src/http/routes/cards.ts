/** `GET /api/cards`: card references and what they are bound to (never a card number: DESIGN §3). */
import type { FastifyPluginAsync } from 'fastify';
import type { CardValue, PolicyState } from '@keymesh/protocol';
import type { RouteOptions } from '../context.js';
import { NoQuery, parseInput } from '../input.js';

/** Every card register of the state (bound, unbound, conflicting). */
export function allCards(policy: PolicyState): CardValue[] {
  return policy.keys('card/').map((k) => policy.card(k.slice('card/'.length))).filter((c): c is CardValue => c !== undefined);
}

/** The cards bound to `member`, or in a conflict that names it. */
export function cardsOf(policy: PolicyState, member: string): CardValue[] {
  return allCards(policy).filter((c) => (c.state === 'bound' && c.member === member) || (c.state === 'conflict' && c.members.includes(member)));
}

export const cardRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const { ledger } = ctx.deps;
  app.get('/api/cards', async (req) => {
    parseInput(NoQuery, req.query, 'query');
    return { cards: allCards(ledger.policy) };
  });
};
