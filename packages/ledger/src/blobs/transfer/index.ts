export * from './errors.js';
export { decodeGet as decodeBlobGet, decodePart as decodeBlobPart, encodeGet as encodeBlobGet, encodePart as encodeBlobPart, type Part as BlobPart } from './codec.js';
export { BlobServer, type BlobServerOptions, type BlobServerStats, type ServerRefusal } from './server.js';
export { BlobFetcher, uniqueBytes, type BlobFetcherOptions, type BlobFetcherStats, type FetcherRefusal, type FetchOptions, type FetchProgress, type FetchResult } from './fetcher.js';
export { PinnedManifests, manifestFromBytes } from './manifest-bytes.js';
export * from './held.js';
