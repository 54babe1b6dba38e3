/**
 * Blob transfer messages on the wire (protocol blob-transfer.ts). A request is JSON. A part is
 * one JSON header line, then the raw bytes: chunk bytes are never re-encoded (base64 would add a
 * third to every upgrade). Decoders never throw: a bad payload is a reason, and it is dropped.
 */
import { Buffer } from 'node:buffer';
import {
  PublicKeyHex, BLOB_GET_MAX_BYTES, BLOB_MESSAGE_MAX_BYTES, BLOB_PART_BYTES, BLOB_PART_HEADER_MAX_BYTES,
  BlobGetMessage, BlobPartHeader, describeZodError,
} from '@keymesh/protocol';

export type Refusal = 'oversized' | 'malformed';
export type Decoded<T> = { ok: true; msg: T } | { ok: false; why: Refusal; reason: string };

export interface Part {
  hash: string;
  offset: number;
  total: number;
  bytes: Uint8Array;
}

export function encodeGet(hashes: readonly string[]): Uint8Array {
  return Buffer.from(JSON.stringify({ kind: 'get', hashes }));
}

export function decodeGet(payload: Uint8Array): Decoded<BlobGetMessage> {
  if (payload.byteLength > BLOB_GET_MAX_BYTES) {
    return { ok: false, why: 'oversized', reason: `a request of ${payload.byteLength} bytes; at most ${BLOB_GET_MAX_BYTES}` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch (err) {
    return { ok: false, why: 'malformed', reason: `not JSON: ${(err as Error).message}` };
  }
  const r = BlobGetMessage.safeParse(raw);
  return r.success ? { ok: true, msg: r.data } : { ok: false, why: 'malformed', reason: describeZodError(r.error) };
}

/** The part of `piece` (whose SHA-256 is `hash`) that starts at `offset`. */
export function encodePart(hash: string, piece: Uint8Array, offset: number): Uint8Array {
  const end = Math.min(piece.byteLength, offset + BLOB_PART_BYTES);
  const header = Buffer.from(JSON.stringify({ kind: 'part', hash, offset, total: piece.byteLength }) + '\n');
  return Buffer.concat([header, piece.subarray(offset, end)]);
}

/** Where the next part of a piece of `total` bytes starts, or null after the last. */
export function nextOffset(offset: number, total: number): number | null {
  const next = offset + BLOB_PART_BYTES;
  return next < total ? next : null;
}

export function decodePart(payload: Uint8Array): Decoded<Part> {
  if (payload.byteLength > BLOB_MESSAGE_MAX_BYTES) {
    return { ok: false, why: 'oversized', reason: `a part of ${payload.byteLength} bytes; at most ${BLOB_MESSAGE_MAX_BYTES}` };
  }
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const nl = buf.subarray(0, BLOB_PART_HEADER_MAX_BYTES).indexOf(0x0a);
  if (nl < 0) return { ok: false, why: 'malformed', reason: `no header line within the first ${BLOB_PART_HEADER_MAX_BYTES} bytes` };
  let raw: unknown;
  try {
    raw = JSON.parse(buf.subarray(0, nl).toString('utf8'));
  } catch (err) {
    return { ok: false, why: 'malformed', reason: `header not JSON: ${(err as Error).message}` };
  }
  const r = BlobPartHeader.safeParse(raw);
  if (!r.success) return { ok: false, why: 'malformed', reason: describeZodError(r.error) };
  const { hash, offset, total } = r.data;
  const bytes = buf.subarray(nl + 1);
  // Parts start at multiples of BLOB_PART_BYTES and all but the last are full: a part is then
  // one slot, and no overlap can be sent to overwrite bytes already received.
  const want = Math.min(BLOB_PART_BYTES, total - offset);
  if (offset % BLOB_PART_BYTES !== 0 || offset >= total || bytes.byteLength !== want) {
    return { ok: false, why: 'malformed', reason: `part at ${offset} of ${total} bytes carries ${bytes.byteLength}; parts start at multiples of ${BLOB_PART_BYTES} and hold ${want} here` };
  }
  return { ok: true, msg: { hash, offset, total, bytes } };
}

/**
 * The publisher named by `<root>/blob/<from>/<kind>/<self>` (a request or a part addressed to
 * this node), or null for any other topic. The broker's ACL makes it the real publisher.
 */
export function publisherOf(topic: string, root: string, kind: 'get' | 'put', self: string): string | null {
  const prefix = `${root}/blob/`;
  const suffix = `/${kind}/${self}`;
  if (!topic.startsWith(prefix) || !topic.endsWith(suffix)) return null;
  const from = topic.slice(prefix.length, topic.length - suffix.length);
  return PublicKeyHex.safeParse(from).success ? from : null;
}
