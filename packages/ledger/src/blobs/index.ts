export * from './errors.js';
export * from './manifest.js';
export * from './blob-store.js';
export * from './transfer/index.js';
