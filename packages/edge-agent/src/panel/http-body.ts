/**
 * Reading a request body the panel did not write: bounded (a Pi has little memory to lend),
 * JSON only, checked against a zod schema. Every refusal is an HttpRefusal carrying the status
 * and a message that names the problem and the fix; the caller answers with it and changes
 * nothing.
 */
import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';

/** The most a panel request body may hold; every real one is a few dozen bytes. */
export const MAX_BODY_BYTES = 1024;

export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra response headers (Allow for a 405, Retry-After for a 503). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The body's bytes, or an HttpRefusal(413) as soon as it passes `limit` (by its Content-Length or as it streams in). */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  const tooBig = () => new HttpRefusal(413, `the request body is over ${limit} bytes; a panel request is a small JSON object such as {"card":"Ada"}`);
  if (Number.isFinite(declared) && declared > limit) throw tooBig();
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause(); // the server answers 413 and closes the connection; nothing more is read
        reject(tooBig());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new HttpRefusal(400, `the request body could not be read: ${err.message}`));
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** The body parsed as JSON and checked against `schema`; HttpRefusal 413, 415 or 400 otherwise. */
export async function readJson<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  // Only JSON: a cross-site HTML form cannot send it without a CORS preflight, which the panel never grants.
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpRefusal(415, `the body must be JSON, sent with "Content-Type: application/json" (got ${type ? `"${type.slice(0, 40)}"` : 'none'})`);
  }
  const raw = await readBody(req);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    // The parser's message quotes the body, which may hold a uid: it is not repeated anywhere.
    throw new HttpRefusal(400, 'the body is not valid JSON; send an object such as {"card":"Ada"}');
  }
  const checked = schema.safeParse(parsed);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : 'the body';
    throw new HttpRefusal(400, `${where}: ${issue.message}`);
  }
  return checked.data;
}
