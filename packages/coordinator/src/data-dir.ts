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
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
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

/**
 * Refuses a file or folder of the data folder that another user may change (written by group
 * or others, or owned by someone else but root): its ledger, keys and serve.json could be
 * swapped under the coordinator and the admin commands, which would follow them.
 */
export function assertOwnFile(path: string, what: string, p: DataPaths): void {
  const st = statSync(path);
  const mine = typeof process.getuid !== 'function' || st.uid === process.getuid() || st.uid === 0;
  if (st.mode & 0o022 || !mine) {
    throw new CoordinatorError('BAD_DATA_FILE', `${path} (${what}) may be changed by another user (mode ${(st.mode & 0o777).toString(8)}, owner ${st.uid}), so nothing in it can be trusted; make the data folder yours alone (\`chmod 700 ${p.dir}\`)${existsSync(p.serve) ? ` and remove ${p.serve}` : ''}.`, { path });
  }
}

/** The site record; NOT_INITIALISED (with what to run) when the folder holds none. */
export function readSite(p: DataPaths): SiteRecord {
  if (existsSync(p.dir)) assertOwnFile(p.dir, 'the data folder', p);
  if (!existsSync(p.site)) throw new CoordinatorError('NOT_INITIALISED', `${p.dir} has no site.json; run \`keymesh init --site "Name" --data ${p.dir}\` first, or pass the right --data.`, { dir: p.dir });
  return parseJsonFile(p.site, SiteRecord, 'the site record');
}

/**
 * Refuses a secret of the data folder that other users of the machine may read (as ssh does):
 * a copied or restored key keeps whatever mode the copy gave it, and a key read by others is
 * a key to replace, not one to go on using quietly.
 */
export function checkPrivate(path: string, what: string): void {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    return; // a missing file is the reader's error to name
  }
  if (mode & 0o077) {
    throw new CoordinatorError('BAD_KEY_FILE', `${path} (${what}) may be read by other users (mode ${(mode & 0o777).toString(8)}); run \`chmod 600 ${path}\`, and if others may have read it, treat the key as leaked.`, { path });
  }
}

export function readNodeKey(p: DataPaths): KeyPair {
  checkPrivate(p.nodeKey, "the coordinator's key");
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
  checkPrivate(path, 'the site card key');
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

/**
 * The running server of this folder, or null (no record, or its process is gone). Admin
 * commands send their signed entries where this record points and sign after the heads it
 * answers, so a record another user could write, or one naming anything but this machine's
 * loopback (the only address `keymesh serve` writes), is refused rather than followed.
 */
export function runningServer(p: DataPaths): ServeRecord | null {
  if (!existsSync(p.serve)) return null;
  assertOwnFile(p.dir, 'the data folder', p);
  assertOwnFile(p.serve, 'the running server record', p);
  const r = parseJsonFile(p.serve, ServeRecord, 'the running server record');
  if (!isLoopbackHttp(r.http)) {
    throw new CoordinatorError('BAD_DATA_FILE', `${p.serve} (the running server record) names ${r.http}, but keymesh serve writes only its loopback address; remove the file (and pass --server to reach another coordinator).`, { path: p.serve });
  }
  try {
    process.kill(r.pid, 0);
    return r;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? r : null;
  }
}

function isLoopbackHttp(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' && u.hostname === '127.0.0.1' && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}
