/** A seeded random source, so a run with faults replays exactly from its seed (pure-rand's xoroshiro128+). */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

export interface Rng {
  /** Uniform in [0, 1). */
  float(): number;
  /** Uniform integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
}

export function seededRng(seed: number): Rng {
  const gen = xoroshiro128plus(seed | 0);
  return {
    float: () => uniformFloat64(gen),
    int: (min, max) => (max <= min ? min : uniformInt(gen, min, max)),
    chance: (p) => p > 0 && uniformFloat64(gen) < p,
  };
}
