/**
 * `POST /api/entries` `{ entry: "<canonical line>" }`: the compare-and-set relay (DESIGN §3).
 * The sync's submit stores the entry only if it is valid and extends its author's head here,
 * then publishes it: 201 `{ seq, hash }`. A stale seq or prev: 409 STALE_HEAD with the head to
 * sign after, nothing stored. Any other refusal: 422 with the ledger's code and reason.
 *
 * The ledger's submit leaves no trace of a refusal. A refusal that a received entry would meet
 * too (bytes, schema, site, signature) is also put through the ledger's ingest, which keeps it
 * in the quarantine as it would from the bus. Refusals that ingest would not make (no
 * authority, a forked feed, a stale head) are not: ingest would hold or store those entries.
 * The API needs no login, so keeping a refusal is rationed (QUARANTINE_RATE): each kept one
 * is a write transaction on the SD card, and a LAN client posting garbage as fast as it can
 * must not turn into as many writes. Beyond the rate a refusal is answered the same, unkept.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { MAX_ENTRY_BYTES, entryHash, parseEntryText } from '@keymesh/protocol';
import { emptyIngestResult, type RejectCode } from '@keymesh/ledger';
import { TokenBucket, type RateOptions } from '../../broker/rate-limit.js';
import type { RouteOptions } from '../context.js';
import { failure } from '../errors.js';
import { parseInput } from '../input.js';

const Body = z.strictObject({ entry: z.string().min(1).max(MAX_ENTRY_BYTES) });

/** Refusals ingest makes alike, without a chance of storing the line (CLOCK_AHEAD may pass a moment later). */
const QUARANTINED: ReadonlySet<string> = new Set<RejectCode>(['BAD_JSON', 'NOT_CANONICAL_BYTES', 'TOO_LARGE', 'SCHEMA', 'NON_CANONICAL', 'WRONG_SITE', 'BAD_SIGNATURE']);

/** Refused API entries kept in the quarantine: 10 a second, bursts of 100 (for everyone together). */
export const QUARANTINE_RATE: RateOptions = { perSecond: 10, burst: 100 };

export const entryRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const { ledger, sync, log, metrics } = ctx.deps;
  const keep = new TokenBucket(QUARANTINE_RATE, ctx.now());
  app.post('/api/entries', async (req, reply) => {
    const { entry: line } = parseInput(Body, req.body, 'body');
    const why = ctx.deps.refusingEntries?.();
    if (why) return failure(reply, 'OWN_HEAD_UNKNOWN', why);
    const out = sync.submit(line);
    if (out.ok) {
      metrics.onIngest({ ...emptyIngestResult(), accepted: 1 }, 'api');
      const hash = entryHash(out.entry, ledger.crypto);
      log.info({ author: out.entry.author, seq: out.entry.seq, type: out.entry.type }, 'entry submitted');
      return reply.code(201).send({ seq: out.entry.seq, hash });
    }
    metrics.onRefused(out.code);
    if (out.code === 'NOT_HEAD') {
      log.info({ code: 'STALE_HEAD' }, 'entry refused: stale head');
      const head = out.head ? { author: parseEntryText(out.head.text).entry.author, seq: out.head.seq, hash: out.head.hash, line: out.head.text } : null;
      return failure(reply, 'STALE_HEAD', `${out.reason}; fetch GET /api/feeds/<author>/head and sign again`, { head });
    }
    if (QUARANTINED.has(out.code) && keep.take(ctx.now())) {
      const r = ledger.ingest([line], { verify: 'each' });
      if (r.accepted || r.waiting) log.error({ code: out.code }, 'a refused entry was taken by ingest'); // cannot happen: same checks
    }
    log.info({ code: out.code }, `entry refused: ${out.code}`);
    return failure(reply, out.code, out.reason);
  });
};
