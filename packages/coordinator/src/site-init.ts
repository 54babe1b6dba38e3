/**
 * `keymesh init`: a new site in a data folder (DESIGN §3). The genesis names a daily admin key
 * and a recovery admin key (quorum 1); the daily key enrols this coordinator at once, so edges
 * provisioned later believe its signed heads. Admin key files go outside the data folder (a
 * backup of the folder must not carry them; the recovery key belongs offline). site.json is
 * written last: a folder without it holds no site, and a second init refuses.
 */
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { createSite, generateKeyPair, nextEntry, siteTopicId, type KeyPair } from '@keymesh/protocol';
import { Ledger } from '@keymesh/ledger';
import { assertOwnFile, dataPaths, writeCardKey, type DataPaths, type SiteRecord } from './data-dir.js';
import { CoordinatorError } from './errors.js';
import { writeFileAtomic, writeKeyFile } from './files.js';
import { writeMark } from './admin/signed-mark.js';

export interface InitOptions {
  name: string;
  data: string;
  /** Where the admin key files go (default ~/.config/keymesh, or $XDG_CONFIG_HOME/keymesh). */
  keysDir?: string;
  /** The coordinator's name in its node.enrol. */
  coordinatorName?: string;
  now?: number;
}

export interface InitResult {
  site: string;
  name: string;
  paths: DataPaths;
  coordinator: string;
  dailyKeyFile: string;
  recoveryKeyFile: string;
  daily: KeyPair;
}

export function defaultKeysDir(): string {
  return join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'keymesh');
}

export function initSite(o: InitOptions): InitResult {
  const paths = dataPaths(o.data);
  if (existsSync(paths.site)) {
    throw new CoordinatorError('ALREADY_INITIALISED', `${paths.site} exists, so ${paths.dir} already holds a site; nothing was changed. Serve it with \`keymesh serve --data ${paths.dir}\`, or choose another --data for a new site.`, { dir: paths.dir });
  }
  if (existsSync(paths.dir) && readdirSync(paths.dir).some((f) => !f.startsWith('.'))) {
    throw new CoordinatorError('ALREADY_INITIALISED', `${paths.dir} is not empty but has no site.json (an init that stopped half-way, or another program's folder); nothing was changed. Choose an empty or new --data folder.`, { dir: paths.dir });
  }
  // An existing (empty) folder others may write is no place for the keys: refused, not chmod-ed (it may be /tmp).
  if (existsSync(paths.dir)) assertOwnFile(paths.dir, 'the data folder', paths);
  const now = o.now ?? Date.now();
  const s = createSite({ name: o.name, now });
  const keysDir = resolve(o.keysDir ?? defaultKeysDir());
  if (keysDir === paths.dir || keysDir.startsWith(paths.dir + '/')) {
    throw new CoordinatorError('BAD_CONFIG', `--keys ${keysDir} is inside the data folder; admin keys must live apart from it (a backup of the folder must not carry them). Choose another folder.`);
  }
  const short = siteTopicId(s.site);
  const dailyKeyFile = join(keysDir, `${short}-admin-daily.key`);
  const recoveryKeyFile = join(keysDir, `${short}-admin-recovery.key`);
  const coordinator = generateKeyPair();

  writeKeyFile(dailyKeyFile, s.daily, `${o.name}: daily admin`, now);
  writeKeyFile(recoveryKeyFile, s.recovery, `${o.name}: recovery admin (keep offline)`, now);
  writeKeyFile(paths.nodeKey, coordinator, `${o.name}: coordinator`, now);
  writeCardKey(paths.cardKey, s.cardKey);

  const enrol = nextEntry(s.genesis.entry, 'node.enrol', {
    node: coordinator.publicKey, name: o.coordinatorName ?? 'coordinator', role: 'coordinator', resources: [],
  }, s.daily, { now });
  const ledger = Ledger.open(paths.ledger, { site: s.site });
  try {
    const r = ledger.ingest([s.genesis.wire, enrol.wire]);
    if (r.accepted !== 2) throw new CoordinatorError('BAD_DATA_FILE', `the new ledger refused the genesis (${JSON.stringify(r.rejected)}); nothing usable was made. Remove ${paths.dir} and run init again.`);
  } finally {
    ledger.close();
  }
  // What the daily key has signed (seq 2): admin commands refuse a target that holds less.
  writeMark(dailyKeyFile, { site: s.site, author: s.daily.publicKey, seq: enrol.entry.seq, hash: enrol.hash });
  const record: SiteRecord = { keymesh: 'site', v: 1, site: s.site, name: o.name, genesis: s.genesis.wire, created: now };
  writeFileAtomic(paths.site, JSON.stringify(record, null, 2) + '\n');
  return { site: s.site, name: o.name, paths, coordinator: coordinator.publicKey, dailyKeyFile, recoveryKeyFile, daily: s.daily };
}
