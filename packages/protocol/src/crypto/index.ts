/**
 * The default provider is chosen by package `imports` conditions: node:crypto under the
 * `node` condition, the pure-JS one everywhere else (browser bundles never see node:crypto).
 */
import defaultProvider from '#crypto-default';
import type { CryptoProvider } from './provider.js';

export type { CryptoProvider, Signer } from './provider.js';
export { pureCrypto } from './pure.js';

export const defaultCrypto: CryptoProvider = defaultProvider;
