export * from './chunking.js';
export * from './publish.js';
export * from './held-reports.js';
export * from './status.js';
export * from './service.js';
