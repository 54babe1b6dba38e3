/**
 * `bundle publish` (DESIGN §8): cut the file with the bundle chunk sizes (chunking.ts), store
 * its chunks and its manifest in the coordinator's blob store, pinned, then sign a
 * `bundle.publish` naming the manifest's id, the version, the size and the targets, submitted
 * like every admin entry (admin/writer.ts: the running server's API, else the ledger file).
 *
 * The blob is stored before the entry is signed: a node that hears the entry can fetch at once.
 * blobs.db is SQLite in WAL mode, so this process may write it while `keymesh serve` serves
 * from it. A publish that fails after storing leaves the blob pinned: publishing again reuses
 * every chunk.
 */
import { createReadStream, statSync } from 'node:fs';
import { BlobStore, type Manifest } from '@keymesh/ledger';
import { BundlePublish, PublicKeyHex, manifestId, type ChunkingParams, type KeyPair } from '@keymesh/protocol';
import type { AdminTarget } from '../admin/target.js';
import { signAndSubmit, type Signed } from '../admin/writer.js';
import { CoordinatorError } from '../errors.js';
import { BUNDLE_CHUNKING } from './chunking.js';

export interface PublishBundleOptions {
  /** The bundle file (an uncompressed tar: see chunking.ts and bench/RESULTS.md). */
  file: string;
  version: string;
  /** 'all' edge nodes, or these nodes' public keys. */
  targets: 'all' | string[];
  adminKey: KeyPair;
  site: string;
  /** Where the entry goes (admin/session.ts opens it: the server's API or the ledger file). */
  target: AdminTarget;
  /** The coordinator's blob store, or the path of its file (opened with `chunking`, closed after). */
  blobs: BlobStore | string;
  /** Chunk sizes (default BUNDLE_CHUNKING); with a store given, they must be the store's. */
  chunking?: ChunkingParams;
  /** Bytes of the file read so far, of its size (for progress lines). */
  onProgress?: (done: number, total: number) => void;
  now?: number;
}

export interface PublishedBundle {
  id: string;
  manifest: Manifest;
  version: string;
  size: number;
  /** The targets as the entry names them (keys sorted, duplicates dropped). */
  targets: 'all' | string[];
  /** Chunk bytes this publish added to the store (the rest were held from earlier bundles). */
  newBytes: number;
  signed: Signed;
}

export async function publishBundle(o: PublishBundleOptions): Promise<PublishedBundle> {
  const version = BundlePublish.shape.version.safeParse(o.version);
  if (!version.success) throw new CoordinatorError('BAD_CONFIG', `--version ${JSON.stringify(o.version)} is not a version: use letters, digits, dots, + and - (such as 1.4.2 or 1.5.0-rc.1), at most 64 characters.`);
  const size = fileSize(o.file);
  const targets = await checkTargets(o.target, o.targets);
  const chunking = o.chunking ?? BUNDLE_CHUNKING;
  const store = typeof o.blobs === 'string' ? BlobStore.open(o.blobs, { chunking }) : o.blobs;
  try {
    const p = store.params;
    if (p.min !== chunking.min || p.avg !== chunking.avg || p.max !== chunking.max || p.level !== chunking.level) {
      throw new CoordinatorError('BAD_CONFIG', `the blob store cuts with ${p.min}/${p.avg}/${p.max} (level ${p.level}), not the ${chunking.min}/${chunking.avg}/${chunking.max} asked; open the store with the bundle chunk sizes (BUNDLE_CHUNKING).`);
    }
    const before = store.stats().bytes;
    const manifest = await store.put(read(o.file, size, o.onProgress), { pin: true });
    if (manifest.size !== size) throw new CoordinatorError('BAD_CONFIG', `${o.file} changed while it was read (${size} bytes at the start, ${manifest.size} read); publish a file nothing writes to.`);
    const id = manifestId(manifest);
    const signed = await signAndSubmit(o.target, o.adminKey, o.site, 'bundle.publish', { manifest: id, version: version.data, size, targets }, [`bundle/${id}`], { now: o.now });
    return { id, manifest, version: version.data, size, targets, newBytes: store.stats().bytes - before, signed };
  } finally {
    if (typeof o.blobs === 'string') store.close();
  }
}

function fileSize(file: string): number {
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    throw new CoordinatorError('NOT_FOUND', `${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give the path of the bundle file.`, { file });
  }
  if (!st.isFile()) throw new CoordinatorError('BAD_CONFIG', `${file} is not a regular file; a bundle is one file (an uncompressed tar of the release).`, { file });
  return st.size;
}

async function* read(file: string, total: number, onProgress?: (done: number, total: number) => void): AsyncGenerator<Uint8Array> {
  let done = 0;
  for await (const b of createReadStream(file, { highWaterMark: 1 << 20 })) {
    done += (b as Buffer).byteLength;
    onProgress?.(done, total);
    yield b as Buffer;
  }
}

/** The targets as the entry names them: every one an enrolled, unretired node of the site. */
async function checkTargets(target: AdminTarget, targets: 'all' | string[]): Promise<'all' | string[]> {
  if (targets === 'all') return 'all';
  if (targets.length === 0) throw new CoordinatorError('BAD_CONFIG', 'no target node given; name nodes with --to KEY (repeatable), or leave --to out for every node.');
  const unique = [...new Set(targets)].sort();
  for (const k of unique) {
    if (!PublicKeyHex.safeParse(k).success) throw new CoordinatorError('BAD_CONFIG', `--to ${JSON.stringify(k).slice(0, 80)} is not a node key (64 hex digits); \`keymesh status\` lists the nodes and their keys.`);
    const reg = await target.policy(`node/${k}`);
    const node = reg?.value as { retired?: boolean } | null | undefined;
    if (!node) throw new CoordinatorError('NOT_FOUND', `no node with key ${k.slice(0, 16)}… is enrolled in this site; \`keymesh status\` lists the nodes, \`keymesh node enrol\` adds one.`, { node: k });
    if (node.retired) throw new CoordinatorError('BAD_CONFIG', `node ${k.slice(0, 16)}… is retired; it runs no bundle. Leave it out of --to.`, { node: k });
  }
  return unique;
}
