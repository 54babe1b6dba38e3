/**
 * The FastCDC sizes bundles are cut with: min/avg/max 4/16/64 KiB, not DESIGN §8's 16/64/256.
 * Measured by bench/lib/bundle-upgrades.mjs (figures and reasoning: bench/RESULTS.md,
 * "coordinator: bundles"): with 5 % of a bundle changed, 16/64/256 stays under 10 % shipped only
 * while the change falls in at most about 4 places, 4/16/64 up to about 16; on real upgrades it
 * ships 2.9 % of typescript 5.9.2 -> 5.9.3 (7.3 % at 16/64/256) and 49 % of twenty commits of
 * this repository (77 %). 2/8/32 gains less again and doubles the manifest and the per-chunk
 * costs of every first install.
 *
 * A bundle is an uncompressed tar with fixed mtimes (gzip makes every chunk new; a tar stamped
 * with build times changes every header).
 */
import type { ChunkingParams } from '@keymesh/protocol';

export const BUNDLE_CHUNKING: ChunkingParams = { min: 4096, avg: 16_384, max: 65_536, level: 1 };
