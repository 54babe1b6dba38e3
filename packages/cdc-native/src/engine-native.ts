// Loads the C addon built by node-gyp at install (build/Release/keymesh_cdc.node).
import { createRequire } from 'node:module';
import type { Engine, EngineFactory } from './engine.js';
import { gearMasks } from './gear.js';
import type { ChunkParams } from './params.js';

interface Addon {
  createCutter(tables: BigUint64Array, min: number, avg: number, max: number): object;
  cuts(cutter: object, data: Uint8Array, start: number, end: number, final: boolean, out: Uint32Array): number;
}

export const ADDON_PATH = '../build/Release/keymesh_cdc.node';

class NativeEngine implements Engine {
  readonly impl = 'native' as const;
  private readonly cutter: object;

  constructor(private readonly addon: Addon, readonly params: ChunkParams) {
    const t = gearMasks(params.avg, params.level, params.seed);
    const tables = new BigUint64Array(516);
    tables.set(t.gear, 0);
    tables.set(t.gearLs, 256);
    tables.set([t.maskS, t.maskL, t.maskSLs, t.maskLLs], 512);
    this.cutter = addon.createCutter(tables, params.min, params.avg, params.max);
  }

  cuts(data: Uint8Array, start: number, end: number, final: boolean, out: Uint32Array): number {
    return this.addon.cuts(this.cutter, data, start, end, final, out);
  }
}

/** Loads the addon; throws the loader's error (missing build, ABI mismatch) unchanged. */
export function loadNativeFactory(path: string = ADDON_PATH): EngineFactory {
  const addon = createRequire(import.meta.url)(path) as Addon;
  return { impl: 'native', create: (params) => new NativeEngine(addon, params) };
}
