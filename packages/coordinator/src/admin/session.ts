/**
 * What every admin command starts with: the data folder's site, the admin key that signs, and
 * the target its entries go to (admin/target.ts): the running server's API when one serves
 * this folder or `--server` names one, else the ledger file. The key file is read, never
 * copied: one key per device (DESIGN §3).
 */
import { join, resolve } from 'node:path';
import { siteTopicId, type KeyPair } from '@keymesh/protocol';
import { UsageError } from '@keymesh/ledger/cli';
import type { CommandRun, Flags } from '../cli/command.js';
import { str } from '../cli/command.js';
import { checkPrivate, dataPaths, readSite, runningServer, type DataPaths, type SiteRecord } from '../data-dir.js';
import { readKeyFile } from '../files.js';
import { defaultKeysDir } from '../site-init.js';
import { apiFor } from './api.js';
import { ledgerTarget, serverTarget, type AdminTarget } from './target.js';
import { markedTarget } from './signed-mark.js';

export const ADMIN_FLAGS: Flags = {
  key: { type: 'string' },
  server: { type: 'string' },
};

export const ADMIN_HELP = `  --key FILE    the admin key file that signs (default $KEYMESH_ADMIN_KEY, else the daily
                key keymesh init wrote: ~/.config/keymesh/<site>-admin-daily.key)
  --server URL  submit through this coordinator's HTTP API (default: the server running for
                --data, if any; else the ledger file is written directly)`;

/** The path of the admin key file: --key, then $KEYMESH_ADMIN_KEY, then init's daily key. */
export function adminKeyPath(r: Pick<CommandRun, 'flags'>, site: string): string {
  const given = str(r, 'key') ?? (process.env.KEYMESH_ADMIN_KEY || undefined);
  return resolve(given ?? join(defaultKeysDir(), `${siteTopicId(site)}-admin-daily.key`));
}

/** The server's URL to go through, or null to write the ledger file. */
export function serverUrl(r: Pick<CommandRun, 'flags'>, paths: DataPaths): string | null {
  const given = str(r, 'server');
  if (given !== undefined) {
    let u: URL;
    try {
      u = new URL(given);
    } catch {
      throw new UsageError('USAGE', `--server ${JSON.stringify(given)} is not a URL: give the coordinator's HTTP address, such as http://127.0.0.1:8080.`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError('USAGE', `--server ${JSON.stringify(given)}: the address starts with http:// or https://.`);
    return u.toString().replace(/\/$/, '');
  }
  return runningServer(paths)?.http.replace(/\/$/, '') ?? null;
}

export interface AdminSession {
  paths: DataPaths;
  site: SiteRecord;
  key: KeyPair;
  keyFile: string;
  target: AdminTarget;
}

/** Opens the target for `r` (site, key file, server or ledger); `fn` runs with it, and it is closed after. */
export async function withAdmin<T>(r: CommandRun, fn: (s: AdminSession) => Promise<T>, opts: { needsKey?: boolean } = {}): Promise<T> {
  const paths = dataPaths(r.data);
  const site = readSite(paths);
  const keyFile = adminKeyPath(r, site.site);
  if (opts.needsKey !== false) checkPrivate(keyFile, 'the admin key');
  const key = opts.needsKey === false ? (null as unknown as KeyPair) : readKeyFile(keyFile);
  const url = serverUrl(r, paths);
  const plain = url ? serverTarget(apiFor(url), url) : ledgerTarget(paths.ledger, site.site);
  const target = key ? markedTarget(plain, keyFile, site.site, key.publicKey) : plain;
  try {
    return await fn({ paths, site, key, keyFile, target });
  } finally {
    await target.close();
  }
}
