/** `GET /api/certifications?member=&resource=`: current certifications (a cert is named by its resource). */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { CertId, MemberId, type CertValue } from '@keymesh/protocol';
import type { RouteOptions } from '../context.js';
import { parseInput } from '../input.js';

const Query = z.strictObject({ member: MemberId.optional(), resource: CertId.optional() });

export const certificationRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const { ledger } = ctx.deps;
  app.get('/api/certifications', async (req) => {
    const { policy } = ledger;
    const q = parseInput(Query, req.query, 'query');
    const prefix = q.member === undefined ? 'cert/' : `cert/${q.member}/`;
    const certifications = policy.keys(prefix)
      .map((k) => {
        const [, member, cert] = k.split('/');
        return member !== undefined && cert !== undefined && (q.resource === undefined || cert === q.resource) ? policy.cert(member, cert) : undefined;
      })
      .filter((c): c is CertValue => c !== undefined && c.granted);
    return { certifications };
  });
};
