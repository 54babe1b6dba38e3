export * from './errors.js';
export * from './drivers/types.js';
export * from './bundles/index.js';
