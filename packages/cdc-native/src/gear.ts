// The FastCDC 2020 constants, as the Rust crate `fastcdc` (module v2020) defines them.
import { createHash } from 'node:crypto';

const U64 = (1n << 64n) - 1n;

/** GEAR[i] = first 8 bytes (big-endian) of MD5(64 copies of byte i); computed, not pasted. */
export const GEAR: readonly bigint[] = Array.from({ length: 256 }, (_, i) =>
  createHash('md5').update(Buffer.alloc(64, i)).digest().readBigUInt64BE(0),
);

/** MASKS[bits]; entries 0–4 are unused (0). Spread bit patterns from the FastCDC paper. */
export const MASKS: readonly bigint[] = [
  0n, 0n, 0n, 0n, 0n,
  0x0000000001804110n, // 5
  0x0000000001803110n, // 6
  0x0000000018035100n, // 7
  0x0000001800035300n, // 8
  0x0000019000353000n, // 9
  0x0000590003530000n, // 10
  0x0000d90003530000n, // 11
  0x0000d90103530000n, // 12
  0x0000d90303530000n, // 13
  0x0000d90313530000n, // 14
  0x0000d90f03530000n, // 15
  0x0000d90303537000n, // 16
  0x0000d90703537000n, // 17
  0x0000d90707537000n, // 18
  0x0000d91707537000n, // 19
  0x0000d91747537000n, // 20
  0x0000d91767537000n, // 21
  0x0000d93767537000n, // 22
  0x0000d93777537000n, // 23
  0x0000d93777577000n, // 24
  0x0000db3777577000n, // 25
];

export interface GearMasks {
  gear: bigint[];
  gearLs: bigint[];
  maskS: bigint;
  maskL: bigint;
  maskSLs: bigint;
  maskLLs: bigint;
}

/** The tables one chunker uses: seeded gear tables and the masks for (avg, level). */
export function gearMasks(avg: number, level: number, seed: bigint): GearMasks {
  const bits = Math.round(Math.log2(avg)); // rounded, as the crate does, not floored
  const maskS = MASKS[bits + level]!;
  const maskL = MASKS[bits - level]!;
  const seedLs = (seed << 1n) & U64;
  return {
    gear: GEAR.map((g) => g ^ seed),
    gearLs: GEAR.map((g) => ((g << 1n) & U64) ^ seedLs),
    maskS,
    maskL,
    maskSLs: (maskS << 1n) & U64,
    maskLLs: (maskL << 1n) & U64,
  };
}
