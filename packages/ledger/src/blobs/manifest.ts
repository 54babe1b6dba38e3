/**
 * Blob manifests: a plain, zod-validated object listing a blob's chunks in order, so a node can
 * fetch only the chunks it lacks and verify each one and the whole. It has exactly one
 * canonical encoding (@keymesh/protocol canonicalString), so it can later be signed as is;
 * unknown fields are refused rather than ignored, because an ignored field would still change
 * what a signature covers.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { LIMITS } from '@keymesh/cdc-native';
import { canonicalString } from '@keymesh/protocol';
import { BlobError } from './errors.js';

export const MANIFEST_VERSION = 1;

/** SHA-256 of zero bytes: the hash of the empty blob. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 digest as 64 lower-case hex digits');

export const ChunkRefSchema = z.strictObject({
  hash: Sha256Hex,
  size: z.int().min(1).max(LIMITS.max.high),
});

/** The FastCDC parameters the blob was cut with (seed is always 0 in the blob store). */
export const ChunkingParamsSchema = z
  .strictObject({
    min: z.int().min(LIMITS.min.low).max(LIMITS.min.high),
    avg: z.int().min(LIMITS.avg.low).max(LIMITS.avg.high),
    max: z.int().min(LIMITS.max.low).max(LIMITS.max.high),
    level: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
  })
  .refine((p) => p.min <= p.avg && p.avg <= p.max, { message: 'must satisfy min <= avg <= max' });

export const ManifestSchema = z
  .strictObject({
    v: z.literal(MANIFEST_VERSION),
    /** Total size of the blob in bytes. */
    size: z.int().min(0),
    /** SHA-256 (hex) of the whole blob. */
    hash: Sha256Hex,
    /** The chunks in blob order; the same chunk may appear more than once. */
    chunks: z.array(ChunkRefSchema),
    params: ChunkingParamsSchema,
  })
  .superRefine((m, ctx) => {
    let sum = 0;
    m.chunks.forEach((c, i) => {
      sum += c.size;
      if (c.size > m.params.max) {
        ctx.addIssue({ code: 'custom', path: ['chunks', i, 'size'], message: `is ${c.size}, larger than params.max ${m.params.max}` });
      }
    });
    if (sum !== m.size) {
      ctx.addIssue({ code: 'custom', path: ['size'], message: `is ${m.size} but the chunk sizes add up to ${sum}` });
    }
    if (m.size === 0 && m.hash !== EMPTY_SHA256) {
      ctx.addIssue({ code: 'custom', path: ['hash'], message: `must be the SHA-256 of no bytes (${EMPTY_SHA256}) for an empty blob` });
    }
  });

export type ChunkRef = z.infer<typeof ChunkRefSchema>;
export type ChunkingParams = z.infer<typeof ChunkingParamsSchema>;
export type Manifest = z.infer<typeof ManifestSchema>;

const MAX_LISTED_ISSUES = 5;

/**
 * Validates a manifest (an object, or its JSON text) and returns it typed. Throws
 * BLOB_BAD_MANIFEST listing what is wrong, field by field.
 */
export function parseManifest(input: unknown): Manifest {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (err) {
      throw new BlobError('BLOB_BAD_MANIFEST',
        `the text is not JSON (${(err as Error).message}); send the manifest as JSON produced by encodeManifest().`);
    }
  }
  const r = ManifestSchema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(manifest)'}: ${i.message}`);
  const shown = issues.slice(0, MAX_LISTED_ISSUES).join('; ');
  const more = issues.length > MAX_LISTED_ISSUES ? `; and ${issues.length - MAX_LISTED_ISSUES} more` : '';
  throw new BlobError('BLOB_BAD_MANIFEST',
    `${shown}${more}. Manifests are { v: 1, size, hash, chunks: [{ hash, size }], params: { min, avg, max, level } } ` +
    'as made by BlobStore.put(); if it came from a peer, fetch it again or from another node.',
    { issues: r.error.issues });
}

/** The canonical JSON text of a manifest (what a signature will cover). */
export function encodeManifest(m: Manifest): string {
  return canonicalString(m);
}

/** The manifest's identity: SHA-256 (hex) of its canonical encoding. */
export function manifestId(m: Manifest): string {
  return createHash('sha256').update(encodeManifest(m)).digest('hex');
}

/** Each distinct chunk of the manifest once, in first-use order. */
export function uniqueChunks(m: Manifest): ChunkRef[] {
  const seen = new Set<string>();
  const out: ChunkRef[] = [];
  for (const c of m.chunks) {
    if (seen.has(c.hash)) continue;
    seen.add(c.hash);
    out.push(c);
  }
  return out;
}

export interface ManifestDiff {
  /** Distinct chunks of `next` that `prev` lacks: what must be shipped. */
  chunks: ChunkRef[];
  /** Their total size in bytes. */
  bytes: number;
  /** Size of the new blob. */
  totalBytes: number;
  /** bytes / totalBytes (0 for an empty blob). */
  ratio: number;
}

/**
 * What moving from `prev` (null: nothing) to `next` ships: the distinct chunks of `next` not in
 * `prev`, and their bytes.
 */
export function diff(prev: Manifest | null, next: Manifest): ManifestDiff {
  const have = new Set(prev ? prev.chunks.map((c) => c.hash) : []);
  const chunks = uniqueChunks(next).filter((c) => !have.has(c.hash));
  const bytes = chunks.reduce((s, c) => s + c.size, 0);
  return { chunks, bytes, totalBytes: next.size, ratio: next.size === 0 ? 0 : bytes / next.size };
}
