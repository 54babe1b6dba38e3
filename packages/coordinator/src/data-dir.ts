/**
 * The coordinator's data folder: what each file is, the site record, and the record a running
 * server leaves so that admin commands submit through its API instead of opening the ledger as
 * a second writer.
 *
 *   site.json    the site id, name and genesis (public)
 *   node.key     the coordinator's own key (0600; never in a backup: DESIGN §4)
 *   card.key     the site card key (0600; never published: DESIGN §3)
 *   ledger.db    the replica (SQLite, WAL)
 *   blobs.db     the blob store (bundles)
 *   serve.json   written by `keymesh serve` while it runs: pid and addresses
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { HashHex, Millis, SiteCardKey, type KeyPair } from '@keymesh/protocol';
import { CoordinatorError } from './errors.js';
import { readKeyFile, writeFileAtomic } from './files.js';

export const DEFAULT_DATA_DIR = 'keymesh-data';

export interface DataPaths {
  dir: string;
  site: string;
  nodeKey: string;
  cardKey: string;
  ledger: string;
  blobs: string;
  serve: string;
}

export function dataPaths(dir: string): DataPaths {
  const d = resolve(dir);
  return {
    dir: d,
    site: join(d, 'site.json'),
    nodeKey: join(d, 'node.key'),
    cardKey: join(d, 'card.key'),
    ledger: join(d, 'ledger.db'),
    blobs: join(d, 'blobs.db'),
    serve: join(d, 'serve.json'),
  };
}

export const SiteRecord = z.strictObject({
  keymesh: z.literal('site'),
  v: z.literal(1),
  site: HashHex,
  name: z.string().min(1).max(100),
  /** The genesis entry's canonical line (the ledger is seeded with it). */
  genesis: z.string().min(1).max(65_536),
  created: Millis,
});
export type SiteRecord = z.infer<typeof SiteRecord>;

function parseJsonFile<T>(path: string, schema: z.ZodType<T>, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CoordinatorError('BAD_DATA_FILE', `${path} (${what}) cannot be read as JSON: ${(err as Error).message}. Restore it from a backup.`, { path });
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new CoordinatorError('BAD_DATA_FILE', `${path} (${what}): field "${i?.path.join('.')}" ${i?.message}. Restore it from a backup.`, { path });
  }
  return r.data;
}

/** The site record; NOT_INITIALISED (with what to run) when the folder holds none. */
export function readSite(p: DataPaths): SiteRecord {
  if (!existsSync(p.site)) throw new CoordinatorError('NOT_INITIALISED', `${p.dir} has no site.json; run \`keymesh init --site "Name" --data ${p.dir}\` first, or pass the right --data.`, { dir: p.dir });
  return parseJsonFile(p.site, SiteRecord, 'the site record');
}

export function readNodeKey(p: DataPaths): KeyPair {
  return readKeyFile(p.nodeKey);
}

/** The card key file: `{"keymesh":"card-key","v":1,"key":<64 hex>}`. */
export const CardKeyFile = z.strictObject({ keymesh: z.literal('card-key'), v: z.literal(1), key: SiteCardKey });

export function writeCardKey(path: string, key: SiteCardKey): void {
  writeFileAtomic(path, JSON.stringify({ keymesh: 'card-key', v: 1, key }) + '\n', { mode: 0o600 });
}

/** The site card key; without it typed card numbers cannot be turned into references. */
export function readCardKey(path: string): SiteCardKey {
  if (!existsSync(path)) throw new CoordinatorError('BAD_DATA_FILE', `${path} (the site card key) does not exist; restore it from a backup.`, { path });
  return parseJsonFile(path, CardKeyFile, 'the site card key').key;
}

/** What a running `keymesh serve` leaves in the folder, for the admin commands. */
export const ServeRecord = z.strictObject({
  pid: z.number().int().positive(),
  http: z.string().url(),
  mqtt: z.string().min(1).nullable(),
  started: Millis,
});
export type ServeRecord = z.infer<typeof ServeRecord>;

export function writeServeRecord(p: DataPaths, r: ServeRecord): void {
  writeFileAtomic(p.serve, JSON.stringify(r) + '\n', { overwrite: true });
}

export function removeServeRecord(p: DataPaths): void {
  rmSync(p.serve, { force: true });
}

/** The running server of this folder, or null (no record, or its process is gone). */
export function runningServer(p: DataPaths): ServeRecord | null {
  if (!existsSync(p.serve)) return null;
  const r = parseJsonFile(p.serve, ServeRecord, 'the running server record');
  try {
    process.kill(r.pid, 0);
    return r;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? r : null;
  }
}
