/**
 * The HTTP API's error model, in one place: every error code the packages raise (the
 * coordinator's, the ledger's, the protocol's, the ledger's submit refusals, the protocol's
 * command refusals, zod's and fastify's) maps here to an HTTP status, and every error body is
 * `{ error: { code, message } }`. Routes throw a KeymeshError or send `failure(code, message)`.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { COMMAND_REFUSALS, KeymeshError, type CommandRefusal, type ProtocolError } from '@keymesh/protocol';
import { SUBMIT_REFUSALS, type Ledger, type LedgerError, type SubmitRefusalCode } from '@keymesh/ledger';
import { CoordinatorError } from '../errors.js';

/** Every code an API error body may carry (INTERNAL: a fault of the server, logged with its cause). */
export type ApiErrorCode = CoordinatorError['code'] | LedgerError['code'] | ProtocolError['code'] | SubmitRefusalCode | CommandRefusal | 'INTERNAL';

export interface ErrorBody {
  error: { code: string; message: string };
}

/** Statuses of codes that are not 500; a code of any table not named here is a server fault. */
const STATUS: Partial<Record<ApiErrorCode, number>> = {
  // The ledger's submit refusals and the protocol's command refusals: well-formed JSON that
  // cannot be taken. (Overridden below: NOT_HEAD, the compare-and-set answer, and the few
  // codes these tables share with the others.)
  ...(Object.fromEntries(Object.keys(SUBMIT_REFUSALS).map((c) => [c, 422])) as Record<SubmitRefusalCode, number>),
  ...(Object.fromEntries(Object.keys(COMMAND_REFUSALS).map((c) => [c, 422])) as Record<CommandRefusal, number>),
  NOT_HEAD: 409,
  REPLAY_CACHE_FULL: 503,
  // CoordinatorError
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  STALE_HEAD: 409,
  TOO_LARGE: 413,
  REFUSED: 422,
  NOT_ADMIN: 422,
  OWN_HEAD_UNKNOWN: 503,
  BROKER_UNREACHABLE: 503,
  // LedgerError: a closed or read-only ledger is the server not being able to serve now.
  LEDGER_CLOSED: 503,
  LEDGER_READONLY: 503,
  // ProtocolError: an entry, command or key in a well-formed request that does not parse is
  // refused like the tables above (422; BAD_JSON, SCHEMA, NON_CANONICAL and NOT_CANONICAL_BYTES
  // are theirs too). A request that is itself malformed is BAD_REQUEST (400).
  BAD_HASH: 422,
  BAD_SIGNATURE: 422,
  BAD_KEY: 422,
  BAD_CARD_UID: 422,
  HLC_DRIFT: 422,
  NOT_NEXT_ENTRY: 409,
};

/** The HTTP status of an error code (500 for any code not known to be the client's fault). */
export function statusOf(code: string): number {
  return STATUS[code as ApiErrorCode] ?? 500;
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/** Sends `{ error: { code, message } }` with the code's status (and `extra` fields beside `error`). */
export function failure(reply: FastifyReply, code: string, message: string, extra: Record<string, unknown> = {}): FastifyReply {
  return reply.code(statusOf(code)).send({ ...errorBody(code, message), ...extra });
}

/** A zod error as one line naming each field: `query field "limit": Too big: expected number to be <=1000`. */
export function describeZod(err: z.ZodError, where: string): string {
  return err.issues.slice(0, 5).map((i) => {
    const fields = i.code === 'unrecognized_keys' ? i.keys.slice(0, 5).map((k) => `"${[...i.path, k.slice(0, 64)].join('.')}"`) : i.path.length ? [`"${i.path.join('.')}"`] : [];
    return fields.length ? `${where} field ${fields.join(', ')}: ${i.message}` : `${where}: ${i.message}`;
  }).join('; ');
}

/** fastify's own request errors (body parsing, size), as our codes. */
function fastifyCode(err: FastifyError): { code: string; message: string } | null {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'TOO_LARGE', message: 'the request body is larger than this server accepts; send one entry or command per request' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { code: 'BAD_REQUEST', message: `the body is not valid JSON (${err.message}); send a JSON object` };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'BAD_REQUEST', message: 'the body must be JSON: send it with content-type application/json' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { code: 'BAD_REQUEST', message: 'the content-length header does not match the body' };
    default:
      break;
  }
  // secure-json-parse refuses __proto__ and constructor.prototype keys with a SyntaxError.
  if (err instanceof SyntaxError || err.statusCode === 400) return { code: 'BAD_REQUEST', message: `the request is not valid: ${err.message}` };
  if (err.statusCode === 413) return { code: 'TOO_LARGE', message: err.message };
  return null;
}

/** Any error as `{ status, code, message }`: our packages' codes, zod, fastify's, else INTERNAL. */
export function toHttpError(err: unknown): { status: number; code: string; message: string } {
  if (err instanceof KeymeshError) return { status: statusOf(err.code), code: err.code, message: err.message };
  if (err instanceof z.ZodError) return { status: 400, code: 'BAD_REQUEST', message: describeZod(err, 'request') };
  const f = err && typeof err === 'object' ? fastifyCode(err as FastifyError) : null;
  if (f) return { status: statusOf(f.code), ...f };
  return { status: 500, code: 'INTERNAL', message: 'the coordinator failed to answer this request; its log has the cause' };
}

/**
 * The error and not-found handlers every route shares; refusals are logged with their code.
 * `unavailable` says why the server cannot serve at all (the ledger closed): a fault while that
 * holds is answered with it (503), not as an unexplained 500.
 */
export function installErrorHandlers(app: FastifyInstance, log: Logger, unavailable: () => KeymeshError | null = () => null): void {
  app.setErrorHandler((err, req, reply) => {
    let e = toHttpError(err);
    const down = e.status === 500 ? unavailable() : null;
    if (down) e = toHttpError(down);
    if (e.status >= 500) log.error({ err, route: req.routeOptions.url, method: req.method }, `http ${req.method} ${req.routeOptions.url ?? req.url}: ${e.code}`);
    else log.info({ code: e.code, route: req.routeOptions.url, method: req.method }, `http refused: ${e.code}`);
    return reply.code(e.status).send(errorBody(e.code, e.message));
  });
  app.setNotFoundHandler((req, reply) => {
    // The path only, never the query (it may hold search terms).
    const path = req.url.split('?')[0]!.slice(0, 200);
    return failure(reply, 'NOT_FOUND', `${req.method} ${path} is not a route of this API; see GET /api/site and the docs for the routes`);
  });
}

/** Errors the HTTP layer raises itself, from the coordinator's table. */
export function badRequest(detail: string): KeymeshError {
  return new CoordinatorError('BAD_REQUEST', detail);
}
export function notFound(detail: string): KeymeshError {
  return new CoordinatorError('NOT_FOUND', detail);
}

/** The ledger's LEDGER_CLOSED once it is closed, else null. */
export function ledgerDown(deps: { ledger: Ledger }): KeymeshError | null {
  try {
    void deps.ledger.sqliteSynchronous; // throws LEDGER_CLOSED once the ledger is closed
    return null;
  } catch (err) {
    return err instanceof KeymeshError ? err : null;
  }
}
