export * from './errors.js';
export * from './migrations.js';
export * from './ledger.js';
export * from './sync/index.js';
export * from './blobs/index.js';
export * from './ingest-pool.js';
export * from './check-line.js';
export * from './bus/bus.js';
