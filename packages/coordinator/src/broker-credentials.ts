/**
 * Broker passwords for an external broker (DESIGN §3, §11): Mosquitto's password file holds one
 * per node, and the node's provisioning file the same one. They are derived from a secret kept
 * in the data folder (`broker.secret`, mode 0600), so `keymesh broker mosquitto-conf` can
 * rewrite the password file from the enrolled nodes at any time and `keymesh node enrol` can
 * hand a node its password without a table of passwords to keep.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoordinatorError } from './errors.js';
import { writeFileAtomic } from './files.js';
import { checkPrivate } from './data-dir.js';

const DOMAIN = 'keymesh/v1/broker-password\0';

/** The broker password of `nodeKey` (hex public key): 64 hex characters. */
export function brokerPassword(secret: Uint8Array, nodeKey: string): string {
  return createHmac('sha256', secret).update(DOMAIN + nodeKey, 'utf8').digest('hex');
}

/** The data folder's broker secret, made (32 random bytes, mode 0600) on first use. */
export function readOrCreateBrokerSecret(dataDir: string): Buffer {
  const path = join(dataDir, 'broker.secret');
  if (!existsSync(path)) writeFileAtomic(path, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  checkPrivate(path, "the broker secret (every node's broker password derives from it)");
  const text = readFileSync(path, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(text)) throw new CoordinatorError('BAD_DATA_FILE', `${path} is not 64 hex characters; restore it from a backup, or delete it and regenerate the broker files (keymesh broker mosquitto-conf) and the nodes' provisioning files.`, { path });
  return Buffer.from(text, 'hex');
}
