/**
 * @keymesh/protocol must run unchanged in the dashboard's browser: bundle it for the browser
 * and fail on any Node built-in, then run the bundle in a bare VM context (no require, no
 * process, no Buffer) and check it signs and verifies.
 */
import { describe, it, expect } from '@jest/globals';
import { build } from 'esbuild';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import vm from 'node:vm';

const pkgRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('browser build', () => {
  it('bundles without Node built-ins and works without Node globals', async () => {
    const result = await build({
      stdin: {
        contents: `import * as p from '@keymesh/protocol';
          const k = p.generateKeyPair();
          const { entry } = p.signEntry(k, { site: 'a'.repeat(64), seq: 1, prev: null, hlc: { wall: 1, logical: 0 }, type: 'card.unbind', deps: [], body: { card: 'c1', reason: 'lost' } });
          globalThis.result = { provider: p.defaultCrypto.name, ok: p.verifyEntry(p.decodeEntry(p.encodeEntry(entry))).ok };`,
        resolveDir: pkgRoot,
      },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile!.inputs);
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    expect(inputs.filter((i) => builtins.has(i) || i.startsWith('node:'))).toEqual([]);
    expect(inputs.some((i) => i.includes('crypto/node.js'))).toBe(false);

    const ctx = vm.createContext({ crypto: globalThis.crypto, TextEncoder, TextDecoder, Intl });
    vm.runInContext(result.outputFiles[0]!.text, ctx);
    expect(ctx.result).toEqual({ provider: 'tweetnacl+noble', ok: true });
  });
});
