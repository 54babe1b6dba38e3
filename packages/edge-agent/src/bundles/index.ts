export { EdgeBundles, type EdgeBundlesOptions, type EdgeBundlesStatus } from './edge-bundles.js';
export { BundleFiles, fileMatches } from './bundle-files.js';
export { bundlesFor, bundleSources, compareVersions, type BundleLedgerView } from './wanted.js';
