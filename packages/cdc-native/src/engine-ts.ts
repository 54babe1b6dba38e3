// Pure-TypeScript FastCDC 2020 loop, giving the same cut points as the crate without BigInt.
//
// Per-byte form: the crate rolls two bytes per step, h = (h << 2) + GEAR_LS[b0] tested against
// mask << 1, then h += GEAR[b1] tested against mask. Since GEAR_LS = GEAR << 1, the first value
// is exactly twice the byte-wise gear hash g = (g << 1) + GEAR[b], so both tests are "g & mask
// == 0" after every byte, and a match after the byte at index i cuts the chunk at length i.
//
// Split: every mask lies within bits 4–47, and shifts and adds only carry upwards, so only
// bits 0–47 of g matter. They are kept as lo = bits 0–15 and hi = bits 16–47 (int32, wrapping),
// with the carry from lo moved into hi after each byte. The loop handles four bytes per branch.
import type { Engine, EngineFactory } from './engine.js';
import { gearMasks } from './gear.js';
import type { ChunkParams } from './params.js';

const lo16 = (v: bigint): number => Number(v & 0xffffn);
const hi32 = (v: bigint): number => Number(BigInt.asIntN(32, v >> 16n));

/**
 * Scans data[p..stop), continuing the hash in state[0] (lo) and state[1] (hi). Returns the first
 * index whose byte makes the hash match the mask, or -1 (state then holds the hash so far).
 * t[2b] and t[2b+1] are the lo and hi parts of GEAR[b].
 */
function scan(t: Int32Array, data: Uint8Array, p: number, stop: number, mLo: number, mHi: number,
  state: Int32Array): number {
  let l = state[0]!;
  let h = state[1]!;
  const stop4 = stop - 3;
  for (; p < stop4; p += 4) {
    // Bytes 0–2 keep their (hi, lo) pair; byte 3's is (h, l). The hi test alone is rarely met,
    // so the lo half is only looked at when it is (one branch per four bytes).
    let b = data[p]! << 1;
    l = (l << 1) + t[b]!; h = (h << 1) + t[b + 1]! + (l >>> 16) | 0; l &= 0xffff;
    const h0 = h, l0 = l;
    b = data[p + 1]! << 1;
    l = (l << 1) + t[b]!; h = (h << 1) + t[b + 1]! + (l >>> 16) | 0; l &= 0xffff;
    const h1 = h, l1 = l;
    b = data[p + 2]! << 1;
    l = (l << 1) + t[b]!; h = (h << 1) + t[b + 1]! + (l >>> 16) | 0; l &= 0xffff;
    const h2 = h, l2 = l;
    b = data[p + 3]! << 1;
    l = (l << 1) + t[b]!; h = (h << 1) + t[b + 1]! + (l >>> 16) | 0; l &= 0xffff;
    if ((Number((h0 & mHi) === 0) | Number((h1 & mHi) === 0) | Number((h2 & mHi) === 0) | Number((h & mHi) === 0)) !== 0) {
      if (((h0 & mHi) | (l0 & mLo)) === 0) return p;
      if (((h1 & mHi) | (l1 & mLo)) === 0) return p + 1;
      if (((h2 & mHi) | (l2 & mLo)) === 0) return p + 2;
      if (((h & mHi) | (l & mLo)) === 0) return p + 3;
    }
  }
  for (; p < stop; p++) {
    const b = data[p]! << 1;
    l = (l << 1) + t[b]!; h = (h << 1) + t[b + 1]! + (l >>> 16) | 0; l &= 0xffff;
    if (((h & mHi) | (l & mLo)) === 0) return p;
  }
  state[0] = l;
  state[1] = h;
  return -1;
}

class TsEngine implements Engine {
  readonly impl = 'ts' as const;
  private readonly table = new Int32Array(512);
  private readonly masks: Int32Array; // small lo, small hi, large lo, large hi
  private readonly state = new Int32Array(2);

  constructor(readonly params: ChunkParams) {
    const g = gearMasks(params.avg, params.level, params.seed);
    g.gear.forEach((v, i) => {
      this.table[2 * i] = lo16(v);
      this.table[2 * i + 1] = hi32(v);
    });
    this.masks = Int32Array.from([lo16(g.maskS), hi32(g.maskS), lo16(g.maskL), hi32(g.maskL)]);
  }

  cuts(data: Uint8Array, start: number, end: number, final: boolean, out: Uint32Array): number {
    const max = this.params.max;
    let pos = start;
    let count = 0;
    while (count < out.length && pos < end) {
      const rem = end - pos;
      if (!final && rem < max) break;
      const len = this.cut(data, pos, rem);
      out[count++] = len;
      pos += len;
    }
    return count;
  }

  /** Length of the next chunk of data[s .. s+n); same bounds as fastcdc::v2020::cut_gear. */
  private cut(data: Uint8Array, s: number, n: number): number {
    const { min, avg, max } = this.params;
    if (n <= min) return n;
    let remaining = n;
    let center = avg;
    if (remaining > max) remaining = max;
    else if (remaining < center) center = remaining;
    // The crate steps in pairs: floor(x / 2) * 2 is where each of its loops stops.
    const first = s + (min >>> 1) * 2;
    const centerEnd = Math.max(first, s + (center >>> 1) * 2);
    const end = s + (remaining >>> 1) * 2;
    const m = this.masks, st = this.state;
    st[0] = 0;
    st[1] = 0;
    let hit = scan(this.table, data, first, centerEnd, m[0]!, m[1]!, st);
    if (hit < 0) hit = scan(this.table, data, centerEnd, end, m[2]!, m[3]!, st);
    return hit < 0 ? remaining : hit - s;
  }
}

export const tsFactory: EngineFactory = {
  impl: 'ts',
  create: (params) => new TsEngine(params),
};
