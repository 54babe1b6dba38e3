/**
 * @keymesh/protocol must run unchanged in the dashboard's browser: bundle it for the browser
 * and fail on any Node built-in, then run the bundle in a bare VM context (no require, no
 * process, no Buffer) and check it signs and verifies.
 *
 * Issue 11, Acceptance: a command, a login token and an entry signed with one key are each
 * refused where another kind is expected (DESIGN §4: signing domains), with node:crypto, with
 * the browser provider in Node, and in the browser bundle. The key is an admin and an enrolled
 * node at once, so only the domain tells its signatures apart.
 */
import { describe, it, expect } from '@jest/globals';
import { build } from 'esbuild';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import vm from 'node:vm';
import * as p from './index.js';
import { pureCrypto } from './crypto/pure.js';

const pkgRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Each kind's genuine verdict, then each other kind's signature (and its domain's signature over this kind's content) in its place. */
function separationMatrix(P: typeof p, crypto: p.CryptoProvider): Record<string, string> {
  const key = P.keyPairFromSeed(new Uint8Array(32).fill(3), crypto);
  const now = 1_700_000_000_000;
  const site = 'a'.repeat(64);
  const { entry } = P.signEntry(key, { site, seq: 1, prev: null, hlc: { wall: now, logical: 0 }, type: 'card.unbind', deps: [], body: { card: P.cardRef('5'.repeat(64), P.normaliseCardUid('04a1b2c3d4e5f6', 'hex')), reason: 'lost' } }, crypto);
  const cmd = P.makeCommand({ site, node: key.publicKey, resource: 'door', issuedAt: now }, key, crypto);
  const login = P.makeLoginToken({ clientId: 'door-pi', site, now }, key, crypto);
  const tokenSig = (JSON.parse(login.password) as { sig: string }).sig;
  const claim = { clientId: 'door-pi', site, ts: now };
  const { sig: _c, ...cmdBody } = cmd;
  const D = P.SIGNING_DOMAINS;

  const asCommand = (sig: string) => {
    const v = P.verifyCommand({ ...cmd, sig }, { site, node: key.publicKey, resources: ['door'], now, retained: false, admins: () => true, seen: new P.ReplayCache(), crypto });
    return v.ok ? 'ok' : v.code;
  };
  const asLogin = (sig: string) => {
    const v = P.verifyLoginToken(key.publicKey, P.canonicalString({ sig, ts: now }), { clientId: 'door-pi', site, now, seen: new P.ReplayCache(), startedAt: 0, mayConnect: () => true, crypto });
    return v.ok ? 'ok' : v.code;
  };
  const asEntry = (sig: string) => {
    const v = P.verifyEntry({ ...entry, sig }, crypto);
    return v.ok ? 'ok' : v.code;
  };
  return {
    'command: genuine': asCommand(cmd.sig),
    'command: the entry signature': asCommand(entry.sig),
    'command: the login token signature': asCommand(tokenSig),
    'command: its content signed as an entry': asCommand(P.signDomain(D.entry, cmdBody, key, crypto)),
    'command: its content signed as a login': asCommand(P.signDomain(D.mqtt, cmdBody, key, crypto)),
    'login: genuine': asLogin(tokenSig),
    'login: the command signature': asLogin(cmd.sig),
    'login: the entry signature': asLogin(entry.sig),
    'login: its claim signed as a command': asLogin(P.signDomain(D.cmd, claim, key, crypto)),
    'login: its claim signed as an entry': asLogin(P.signDomain(D.entry, claim, key, crypto)),
    'entry: genuine': asEntry(entry.sig),
    'entry: the command signature': asEntry(cmd.sig),
    'entry: the login token signature': asEntry(tokenSig),
    'entry: its content signed as a command': asEntry(P.signDomain(D.cmd, P.unsignedPart(entry), key, crypto)),
    'entry: its content signed as a login': asEntry(P.signDomain(D.mqtt, P.unsignedPart(entry), key, crypto)),
  };
}

/** What the matrix must be, in Node and in the browser. */
const EXPECTED_SEPARATION: Record<string, string> = {
  'command: genuine': 'ok',
  'command: the entry signature': 'BAD_SIGNATURE',
  'command: the login token signature': 'BAD_SIGNATURE',
  'command: its content signed as an entry': 'BAD_SIGNATURE',
  'command: its content signed as a login': 'BAD_SIGNATURE',
  'login: genuine': 'ok',
  'login: the command signature': 'BAD_SIGNATURE',
  'login: the entry signature': 'BAD_SIGNATURE',
  'login: its claim signed as a command': 'BAD_SIGNATURE',
  'login: its claim signed as an entry': 'BAD_SIGNATURE',
  'entry: genuine': 'ok',
  'entry: the command signature': 'BAD_SIGNATURE',
  'entry: the login token signature': 'BAD_SIGNATURE',
  'entry: its content signed as a command': 'BAD_SIGNATURE',
  'entry: its content signed as a login': 'BAD_SIGNATURE',
};


describe('browser build', () => {
  it('bundles without Node built-ins and works without Node globals', async () => {
    const result = await build({
      stdin: {
        contents: `import * as p from '@keymesh/protocol';
          const k = p.generateKeyPair();
          const { entry } = p.signEntry(k, { site: 'a'.repeat(64), seq: 1, prev: null, hlc: { wall: 1, logical: 0 }, type: 'card.unbind', deps: [], body: { card: p.cardRef('5'.repeat(64), p.normaliseCardUid('0012345678', 'decimal')), reason: 'lost' } });
          const separationMatrix = ${separationMatrix.toString()};
          globalThis.result = { provider: p.defaultCrypto.name, ok: p.verifyEntry(p.decodeEntry(p.encodeEntry(entry))).ok, separation: separationMatrix(p, p.defaultCrypto) };`,
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
    expect(ctx.result).toEqual({ provider: 'tweetnacl+noble', ok: true, separation: EXPECTED_SEPARATION });
  });
});

describe('signing domains keep kinds apart (in Node)', () => {
  it('with node:crypto', () => {
    expect(separationMatrix(p, p.defaultCrypto)).toEqual(EXPECTED_SEPARATION);
  });
  it('with the browser provider (tweetnacl + noble)', () => {
    expect(separationMatrix(p, pureCrypto)).toEqual(EXPECTED_SEPARATION);
  });
});
