/**
 * Keymesh's shared test helpers. A dev dependency of tests only: no shipped package imports it.
 */
export * from './errors.js';
export * from './rng.js';
export * from './memory-broker.js';
export { MemoryBus, type Subscription } from './memory-bus.js';
export * from './duplex-pair.js';
export * from './aedes-broker.js';
