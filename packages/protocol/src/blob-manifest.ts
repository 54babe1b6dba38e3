/**
 * The blob manifest format (DESIGN §8): a plain object listing a blob's chunks in order, so a
 * node fetches only the chunks it lacks and verifies each one and the whole. It has exactly one
 * canonical encoding, and its identity (what a `bundle.publish` names) is the SHA-256 of that
 * encoding. Unknown fields are refused rather than ignored, because an ignored field would
 * still change the identity. The store that keeps blobs is the ledger's (blobs/); this is only
 * the format, pure, so the browser can check a manifest too.
 */
import { z } from 'zod';
import { canonicalBytes, canonicalString } from './canonical.js';
import { toHex } from './bytes.js';
import { defaultCrypto, type CryptoProvider } from './crypto/index.js';
import { ProtocolError } from './errors.js';

export const MANIFEST_VERSION = 1;

/** SHA-256 of zero bytes: the hash of the empty blob. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** FastCDC 2020 parameter limits (the Rust crate's v2020 module; @keymesh/cdc-native's LIMITS, checked equal by the ledger's tests). */
export const CHUNK_LIMITS = {
  min: { low: 64, high: 1_048_576 },
  avg: { low: 256, high: 4_194_304 },
  max: { low: 1024, high: 16_777_216 },
} as const;

const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 digest as 64 lower-case hex digits');

export const ChunkRefSchema = z.strictObject({
  hash: Sha256Hex,
  size: z.int().min(1).max(CHUNK_LIMITS.max.high),
});

/** The FastCDC parameters the blob was cut with (seed is always 0 in the blob store). */
export const ChunkingParamsSchema = z
  .strictObject({
    min: z.int().min(CHUNK_LIMITS.min.low).max(CHUNK_LIMITS.min.high),
    avg: z.int().min(CHUNK_LIMITS.avg.low).max(CHUNK_LIMITS.avg.high),
    max: z.int().min(CHUNK_LIMITS.max.low).max(CHUNK_LIMITS.max.high),
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
    // One content has one size: a repeated chunk listed with another size would make the
    // manifest's sizes (what a diff ships, where a chunk goes) disagree with what is fetched.
    const sizeOf = new Map<string, number>();
    m.chunks.forEach((c, i) => {
      sum += c.size;
      if (c.size > m.params.max) {
        ctx.addIssue({ code: 'custom', path: ['chunks', i, 'size'], message: `is ${c.size}, larger than params.max ${m.params.max}` });
      }
      const seen = sizeOf.get(c.hash);
      if (seen === undefined) sizeOf.set(c.hash, c.size);
      else if (seen !== c.size) ctx.addIssue({ code: 'custom', path: ['chunks', i, 'size'], message: `is ${c.size}, but the same chunk is listed before with size ${seen}` });
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

export type ManifestCheck =
  | { ok: true; manifest: Manifest }
  | { ok: false; notJson: boolean; problem: string; issues: ReadonlyArray<unknown> };

/** Validates a manifest (an object, or its JSON text) without throwing; `problem` lists what is wrong, field by field. */
export function checkManifest(input: unknown): ManifestCheck {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (err) {
      return { ok: false, notJson: true, problem: `the text is not JSON (${(err as Error).message})`, issues: [] };
    }
  }
  const r = ManifestSchema.safeParse(value);
  if (r.success) return { ok: true, manifest: r.data };
  const issues = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(manifest)'}: ${i.message}`);
  const more = issues.length > MAX_LISTED_ISSUES ? `; and ${issues.length - MAX_LISTED_ISSUES} more` : '';
  return { ok: false, notJson: false, problem: issues.slice(0, MAX_LISTED_ISSUES).join('; ') + more, issues: r.error.issues };
}

/** Validates a manifest and returns it typed; throws BAD_MANIFEST listing what is wrong. */
export function parseManifest(input: unknown): Manifest {
  const r = checkManifest(input);
  if (r.ok) return r.manifest;
  throw new ProtocolError('BAD_MANIFEST', `${r.problem}; a manifest is { v: 1, size, hash, chunks: [{ hash, size }], params: { min, avg, max, level } }`, { issues: r.issues });
}

/** The canonical JSON text of a manifest. */
export function encodeManifest(m: Manifest): string {
  return canonicalString(m);
}

/** The manifest's identity: SHA-256 (hex) of its canonical encoding. */
export function manifestId(m: Manifest, crypto: CryptoProvider = defaultCrypto): string {
  return toHex(crypto.sha256(canonicalBytes(m)));
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

/** What moving from `prev` (null: nothing) to `next` ships: the distinct chunks of `next` not in `prev`, and their bytes. */
export function manifestDiff(prev: Manifest | null, next: Manifest): ManifestDiff {
  const have = new Set(prev ? prev.chunks.map((c) => c.hash) : []);
  const chunks = uniqueChunks(next).filter((c) => !have.has(c.hash));
  const bytes = chunks.reduce((s, c) => s + c.size, 0);
  return { chunks, bytes, totalBytes: next.size, ratio: next.size === 0 ? 0 : bytes / next.size };
}
