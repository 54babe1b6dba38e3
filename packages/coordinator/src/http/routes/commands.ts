/**
 * `POST /api/commands` `{ command: <signed command> }`: checked as a node would check it
 * (protocol verifyCommand: schema, site, an enrolled node controlling the resource, the
 * signature, a current admin, not expired, issued not ahead of this clock, not seen before),
 * then published on `cmd/<node>` (QoS 1, never retained): 202. A refusal: 422 with its code.
 * The coordinator is not the authority here either: the node checks it all again.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { canonicalString, controlledResources, verifyCommand } from '@keymesh/protocol';
import { CoordinatorError } from '../../errors.js';
import type { RouteOptions } from '../context.js';
import { failure } from '../errors.js';
import { parseInput } from '../input.js';

const Body = z.strictObject({
  command: z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'must be a signed command object'),
});

export const commandRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const { deps } = ctx;
  app.post('/api/commands', async (req, reply) => {
    const { command } = parseInput(Body, req.body, 'body');
    const { ledger } = deps;
    // The node it names is the addressee checked: a command for a node not enrolled here controls nothing.
    const node = typeof command.node === 'string' ? command.node : '';
    const verdict = verifyCommand(command, {
      site: deps.site, node, resources: controlledResources(ledger.policy, node), now: ctx.now(),
      retained: false, admins: ledger.policy, seen: ctx.seenCommands, crypto: ledger.crypto,
    });
    if (!verdict.ok) {
      deps.metrics.onRefused(verdict.code);
      deps.log.info({ code: verdict.code }, `command refused: ${verdict.code}`);
      return failure(reply, verdict.code, verdict.reason);
    }
    const c = verdict.command;
    try {
      await deps.publishCommand(c.node, Buffer.from(canonicalString(c)));
    } catch (err) {
      throw new CoordinatorError('BROKER_UNREACHABLE', `command ${c.id} was not published (${(err as Error).message}); issue a new command once the broker is up`);
    }
    deps.log.info({ id: c.id, node: c.node, resource: c.resource, issuer: c.issuer, action: c.action }, 'command relayed');
    return reply.code(202).send({ id: c.id, node: c.node, expiresAt: c.expiresAt });
  });
};
