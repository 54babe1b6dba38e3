/**
 * Blob transfer messages (DESIGN §7 `blob/…`, §8): a node asks another for chunks by SHA-256
 * and gets them back in parts, each message at most BLOB_MESSAGE_MAX_BYTES; a node says which
 * bundles it holds. Topics (topics.ts) name the publisher first and the addressee last:
 * `blob/<from>/get/<to>` (a request), `blob/<from>/put/<to>` (the parts), `blob/<node>/held`.
 *
 * A request or a part carries no signature: what a part carries is checked against the hash
 * that was asked, and who sent it is the topic's publisher, which the broker's ACL enforces
 * (DESIGN §3). A held report is signed under the sync domain, like a status: it is a claim.
 */
import { z } from 'zod';
import { HashHex, Millis, PublicKeyHex, SignatureHex } from './schemas/common.js';
import { BundlePublish } from './schemas/bodies.js';

/** The most bytes a blob message may have: a part's header line and its bytes together (issue 12: 64 KiB). */
export const BLOB_MESSAGE_MAX_BYTES = 65_536;
/** Room kept for a part's header line (about 130 bytes used). */
export const BLOB_PART_HEADER_MAX_BYTES = 512;
/** Bytes of a chunk each part carries (the last part of a chunk the rest): parts start at multiples of it. */
export const BLOB_PART_BYTES = BLOB_MESSAGE_MAX_BYTES - BLOB_PART_HEADER_MAX_BYTES;
/** Most hashes one request names. */
export const BLOB_GET_MAX_HASHES = 64;
/** A request's most bytes (64 hashes of 67 bytes and the envelope fit in about 4.4 KB). */
export const BLOB_GET_MAX_BYTES = 8192;
/** Most bundles a held report names. */
export const BLOB_HELD_MAX_BUNDLES = 256;

/** `blob/<from>/get/<to>`: send me these chunks (or a manifest, by its id). */
export const BlobGetMessage = z.strictObject({
  kind: z.literal('get'),
  hashes: z.array(HashHex).min(1).max(BLOB_GET_MAX_HASHES),
});
export type BlobGetMessage = z.infer<typeof BlobGetMessage>;

/**
 * The header line of a part (`blob/<from>/put/<to>`): the bytes after the line are
 * `[offset, offset + length)` of the blob piece whose SHA-256 is `hash` and whose size is
 * `total`. `offset` is a multiple of BLOB_PART_BYTES; every part but the last is that long.
 */
export const BlobPartHeader = z.strictObject({
  kind: z.literal('part'),
  hash: HashHex,
  offset: z.number().int().nonnegative().max(2 ** 32),
  total: z.number().int().min(1).max(2 ** 32),
});
export type BlobPartHeader = z.infer<typeof BlobPartHeader>;

export const HeldBundle = z.strictObject({
  manifest: HashHex,
  version: BundlePublish.shape.version,
});
export type HeldBundle = z.infer<typeof HeldBundle>;

/**
 * `blob/<node>/held` (QoS 1, retained): the bundles the node holds whole and verified, signed
 * by the node under the sync domain with its clock (`at`). The latest report replaces the last.
 */
export const BlobHeldMessage = z.strictObject({
  kind: z.literal('held'),
  node: PublicKeyHex,
  bundles: z.array(HeldBundle).max(BLOB_HELD_MAX_BUNDLES),
  at: Millis,
  sig: SignatureHex,
});
export type BlobHeldMessage = z.infer<typeof BlobHeldMessage>;
