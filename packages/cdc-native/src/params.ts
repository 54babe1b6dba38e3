import { CdcError } from './errors.js';

/** Limits of the Rust crate's v2020 module, so every accepted parameter set is one it accepts. */
export const LIMITS = {
  min: { low: 64, high: 1_048_576 },
  avg: { low: 256, high: 4_194_304 },
  max: { low: 1024, high: 16_777_216 },
} as const;

/** DESIGN.md §8 defaults: 16 / 64 / 256 KiB; level 1 is the crate's default normalisation. */
export const DEFAULTS = { min: 16_384, avg: 65_536, max: 262_144, level: 1, seed: 0n } as const;

export type Level = 0 | 1 | 2 | 3;

export interface ChunkParamsInput {
  /** Smallest chunk, bytes (64 … 1 MiB). Even values match the crate's intent exactly. */
  min?: number;
  /** Target average, bytes (256 … 4 MiB); the mask uses round(log2(avg)) bits. */
  avg?: number;
  /** Largest chunk, bytes (1 KiB … 16 MiB). */
  max?: number;
  /** Normalisation level 0–3 (0 = one mask; higher = chunk sizes closer to avg). */
  level?: number;
  /** XORed into the gear table (64-bit); 0 = unseeded, the crate's default. */
  seed?: bigint | number;
}

export interface ChunkParams {
  min: number;
  avg: number;
  max: number;
  level: Level;
  seed: bigint;
}

function checkSize(name: 'min' | 'avg' | 'max', value: unknown): number {
  const { low, high } = LIMITS[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < low || value > high) {
    throw new CdcError('CDC_BAD_PARAMS',
      `${name} must be an integer from ${low} to ${high} bytes (the FastCDC 2020 limits), got ${String(value)}; ` +
      `for example ${name}: ${DEFAULTS[name]}.`);
  }
  return value;
}

/** Fills defaults and checks every field; throws CdcError('CDC_BAD_PARAMS') saying what to change. */
export function resolveParams(input: ChunkParamsInput = {}): ChunkParams {
  const min = checkSize('min', input.min ?? DEFAULTS.min);
  const avg = checkSize('avg', input.avg ?? DEFAULTS.avg);
  const max = checkSize('max', input.max ?? DEFAULTS.max);
  if (!(min <= avg && avg <= max)) {
    throw new CdcError('CDC_BAD_PARAMS',
      `chunk sizes must satisfy min <= avg <= max, got min ${min}, avg ${avg}, max ${max}; ` +
      'for example min 16384, avg 65536, max 262144.');
  }
  const level = input.level ?? DEFAULTS.level;
  if (level !== 0 && level !== 1 && level !== 2 && level !== 3) {
    throw new CdcError('CDC_BAD_PARAMS',
      `level (normalisation) must be 0, 1, 2 or 3, got ${String(level)}; 1 is the usual choice.`);
  }
  const seed = toSeed(input.seed ?? DEFAULTS.seed);
  return { min, avg, max, level, seed };
}

function toSeed(seed: unknown): bigint {
  let s: bigint | undefined;
  if (typeof seed === 'bigint') s = seed;
  else if (typeof seed === 'number' && Number.isSafeInteger(seed)) s = BigInt(seed);
  if (s === undefined || s < 0n || s >= 1n << 64n) {
    throw new CdcError('CDC_BAD_PARAMS',
      `seed must be an unsigned 64-bit integer (a bigint, or a safe integer number), got ${String(seed)}; ` +
      'use 0 for no seed.');
  }
  return s;
}
