/**
 * Keymesh's shared test helpers. A dev dependency of tests only: no shipped package imports it.
 * Each module is also its own entry point (`@keymesh/testkit/site`, `/bytes`, `/temp-ledger`, ...),
 * so a package's tests load only what they use (protocol's tests never load SQLite).
 */
export * from './errors.js';
export * from './rng.js';
export * from './memory-broker.js';
export { MemoryBus, type Subscription } from './memory-bus.js';
export * from './duplex-pair.js';
export * from './aedes-broker.js';
export * from './site.js';
export * from './bytes.js';
export * from './temp-files.js';
export { tempLedger } from './temp-ledger.js';
export * from './raw-feed.js';
export * from './crash-child-path.js';
export * from './sync-audit.js';
export * from './sync-fixtures.js';
