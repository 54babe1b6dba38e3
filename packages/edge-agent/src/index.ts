export * from './errors.js';
export * from './drivers/types.js';
