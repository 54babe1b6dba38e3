export * from './engine.js';
export * from './ranges.js';
export * from './store.js';
export * from './codec.js';
export * from './pubsub.js';
export * from './counters.js';
export * from './ledger-store.js';
export * from './freshness.js';
