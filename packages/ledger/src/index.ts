export * from './errors.js';
export * from './schema.js';
export * from './ledger.js';
export * from './sync.js';
export * from './blobs/index.js';
