// Which implementation the package uses: the addon when it loads, the fallback otherwise,
// unless KEYMESH_CDC_IMPL forces one.
import type { EngineFactory, ImplName } from './engine.js';
import { tsFactory } from './engine-ts.js';
import { CdcError } from './errors.js';

export const IMPL_ENV = 'KEYMESH_CDC_IMPL';

export interface Selection {
  /** What chunkers use when no `impl` option is given. */
  readonly factory: EngineFactory;
  /** The addon, or null when it did not load (see nativeError). */
  readonly native: EngineFactory | null;
  readonly nativeError: unknown;
}

export function nativeUnavailable(cause: unknown, why: string): CdcError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new CdcError('CDC_NATIVE_UNAVAILABLE',
    `${why}, but the native FastCDC addon could not be loaded (${detail}). ` +
    'Build it with `npm rebuild @keymesh/cdc-native` (needs python3, make and a C compiler), ' +
    `or use the TypeScript fallback (${IMPL_ENV}=ts, or leave ${IMPL_ENV} unset).`, { cause });
}

/** Pure decision, so it can be tested with a loader that fails. */
export function selectImplementation(envValue: string | undefined, loadNative: () => EngineFactory): Selection {
  const wanted = envValue === undefined ? '' : envValue.trim().toLowerCase();
  if (wanted !== '' && wanted !== 'native' && wanted !== 'ts') {
    throw new CdcError('CDC_BAD_IMPL',
      `${IMPL_ENV} must be "native" or "ts" (or unset to pick automatically), got "${envValue}".`);
  }
  let native: EngineFactory | null = null;
  let nativeError: unknown = null;
  try {
    native = loadNative();
  } catch (err) {
    nativeError = err;
  }
  if (wanted === 'native' && native === null) {
    throw nativeUnavailable(nativeError, `${IMPL_ENV}=native asks for the native implementation`);
  }
  const factory = wanted === 'ts' || native === null ? tsFactory : native;
  return { factory, native, nativeError };
}

/** The factory for an explicit `impl` option (or the selection's default when absent). */
export function factoryFor(sel: Selection, impl: ImplName | undefined): EngineFactory {
  if (impl === undefined) return sel.factory;
  if (impl === 'ts') return tsFactory;
  if (impl === 'native') {
    if (sel.native === null) throw nativeUnavailable(sel.nativeError, 'impl: "native" was requested');
    return sel.native;
  }
  throw new CdcError('CDC_BAD_IMPL', `impl must be "native" or "ts", got "${String(impl)}".`);
}
