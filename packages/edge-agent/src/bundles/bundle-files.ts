/**
 * Where a verified bundle lives in the data folder: `<data>/bundles/<version>/bundle` (the
 * file, an uncompressed tar: hardware/bundles.md says how it becomes the running release) and
 * beside it `manifest`, the manifest id it was built from. The id file is written after the
 * bundle file, so its presence marks a complete bundle; both are written atomically (a temporary
 * file, fsync, rename, fsync of the folder), so a power cut leaves the old state or the new one.
 *
 * "Held" means: the id file names a manifest pinned in the blob store, and the file's size and
 * SHA-256 are the manifest's (checked again at start: SD cards die, DESIGN §9).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { PinnedManifests, writeFileAtomic, type BlobStore } from '@keymesh/ledger';
import { BundlePublish, type HeldBundle, type Manifest } from '@keymesh/protocol';

export class BundleFiles {
  readonly root: string;

  /** `dataDir`: the edge's data folder; bundles go in its `bundles/` folder. */
  constructor(dataDir: string) {
    this.root = join(dataDir, 'bundles');
  }

  fileOf(version: string): string {
    return join(this.root, version, 'bundle');
  }

  /** The manifest id recorded for `version`, or undefined when no complete bundle is there. */
  idOf(version: string): string | undefined {
    const f = join(this.root, version, 'manifest');
    if (!existsSync(f)) return undefined;
    const id = readFileSync(f, 'utf8').trim();
    return /^[0-9a-f]{64}$/.test(id) ? id : undefined;
  }

  /** Version folders present (names that are not versions are ignored). */
  versions(): string[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && BundlePublish.shape.version.safeParse(d.name).success)
      .map((d) => d.name);
  }

  /**
   * Writes `bytes` (the store's verified stream of the blob) as `version`'s bundle, then its id
   * file. The stream re-hashes every chunk and the whole; an error on the way leaves no file.
   */
  async write(version: string, id: string, bytes: Readable): Promise<string> {
    const dir = join(this.root, version);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const file = join(dir, 'bundle');
    const tmp = `${file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    const fh = await open(tmp, 'wx', 0o644);
    try {
      try {
        for await (const b of bytes) await fh.write(b as Buffer);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
    } finally {
      await rm(tmp, { force: true });
    }
    await syncDir(dir);
    writeFileAtomic(join(dir, 'manifest'), `${id}\n`, { overwrite: true });
    await syncDir(dir);
    return file;
  }

  /**
   * Every complete bundle whose file matches its pinned manifest (size and SHA-256); a folder
   * that does not is left alone and not reported (the fetch loop fetches it again).
   */
  async held(store: BlobStore): Promise<{ held: HeldBundle[]; damaged: string[] }> {
    const pinned = new PinnedManifests(store);
    const held: HeldBundle[] = [];
    const damaged: string[] = [];
    for (const version of this.versions()) {
      const id = this.idOf(version);
      if (id === undefined) continue;
      const m = pinned.get(id);
      if (m === undefined || !(await fileMatches(this.fileOf(version), m))) damaged.push(version);
      else held.push({ manifest: id, version });
    }
    return { held, damaged };
  }
}

/** Whether the file at `path` is the blob of `m` (size and SHA-256 of the whole). */
export async function fileMatches(path: string, m: Manifest): Promise<boolean> {
  const h = createHash('sha256');
  let size = 0;
  try {
    for await (const b of createReadStream(path, { highWaterMark: 1 << 20 })) {
      size += (b as Buffer).byteLength;
      if (size > m.size) return false;
      h.update(b as Buffer);
    }
  } catch {
    return false;
  }
  return size === m.size && h.digest('hex') === m.hash;
}

/** fsync of a folder, so a rename in it survives a power cut (a no-op where folders cannot be opened). */
async function syncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // some file systems refuse fsync on a folder; the rename is then as durable as they make it
  } finally {
    await fh?.close();
  }
}
