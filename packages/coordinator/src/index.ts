export * from './errors.js';
export * from './files.js';
export * from './data-dir.js';
export * from './site-init.js';
export * from './node-registry.js';
